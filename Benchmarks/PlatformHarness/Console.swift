import Failover
import Foundation
import PlatformRender

/// A processor's serial console as libvirt logs it: how a harness knows that a guest has booted
/// (a hot standby has no address to ask before it carries a personality).
public enum Console {
    public static func log(platform: String, processor: String) -> String { Renderer.consoleLog(platform: platform, processor: processor) }

    /// Bytes in the console log now: pass it as `since` to wait for the next boot.
    public static func size(platform: String, processor: String) -> Int {
        FileManager.default.contents(atPath: log(platform: platform, processor: processor))?.count ?? 0
    }

    /// Until the processor's console shows its agent ready (after byte `since` of the log); a
    /// kernel panic there calls `restart` and the wait goes on.
    public static func waitUntilBooted(platform: String, processor: String, since: Int, within limit: Duration = .seconds(60),
                                       restart: () throws -> Void = {}) async throws {
        let deadline = ContinuousClock.now + limit
        var since = since
        while ContinuousClock.now < deadline {
            // libvirt starts the log afresh at each boot (or appends): read what is new either way.
            if let data = FileManager.default.contents(atPath: log(platform: platform, processor: processor)) {
                let new = String(decoding: data.count > since ? data[since...] : data[...], as: UTF8.self)
                if new.contains(LibvirtStandbyProbe.readyLine) { return }
                if new.contains("Kernel panic") {
                    since = data.count
                    try restart()
                }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HarnessError(processor, "did not boot within \(limit)")
    }

    /// The processor's last boot on its console reached "agent ready" (read as the standby chooser reads it).
    public static func bootedSinceLastStart(platform: String, processor: String) -> Bool {
        let said = FileManager.default.contents(atPath: log(platform: platform, processor: processor)).map { String(decoding: $0, as: UTF8.self) }
        return LibvirtStandbyProbe.saysReady(said ?? "")
    }

    /// Until the processor's last boot reached "agent ready".
    public static func waitUntilReady(platform: String, processor: String, within limit: Duration) async throws {
        let deadline = ContinuousClock.now + limit
        while !bootedSinceLastStart(platform: platform, processor: processor) {
            guard ContinuousClock.now < deadline else { throw HarnessError(processor, "its agent was not ready within \(limit)") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

extension Administration {
    /// Returns a failed processor to the pool and, when it comes back as a hot standby, waits
    /// until its agent runs (`restart` as in `Console.waitUntilBooted`).
    @discardableResult
    public func repairAndWaitForBoot(_ processor: String, platform: String, who: String, within limit: Duration = .seconds(60),
                                     restart: () throws -> Void = {}) async throws -> String {
        let since = Console.size(platform: platform, processor: processor)
        let said = try await repair(processor, who: who)
        if said.contains("hot standby") {
            try await Console.waitUntilBooted(platform: platform, processor: processor, since: since, within: limit, restart: restart)
        }
        return said
    }
}
