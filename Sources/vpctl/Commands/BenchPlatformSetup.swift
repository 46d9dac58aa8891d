import ArgumentParser
import Failover
import Foundation
import PlatformEngine
import PlatformRender

/// A benchmark's own platform: its definition written to a directory of its own, the state store
/// beside it, and the engines that act on it (shared by `bench failover` and `bench faults`).
struct BenchDefinition {
    let name: String
    let directory: URL
    let file: String
    /// The state store; a new one after `freshState()`.
    private(set) var statePath: String

    init(name: String, yaml: String) throws {
        self.name = name
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("vp-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        file = directory.appendingPathComponent("\(name).yaml").path
        statePath = directory.appendingPathComponent("state.sqlite").path
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
    }

    /// The platform engine and a failover engine sharing its connections and store, opened anew
    /// (after a libvirtd restart the old connections are closed).
    func engines() throws -> (platform: PlatformEngine, failover: FailoverEngine) {
        let platform = try PlatformEngine(file: file, statePath: statePath)
        let uris = Dictionary(platform.definition.hosts.map { ($0.name, $0.uri) }, uniquingKeysWith: { a, _ in a })
        return (platform, try FailoverEngine(definition: platform.definition, store: platform.store,
                                             hosts: Hosts(uris: uris, connections: platform.connections)))
    }

    /// Starts over with an empty state store (after the platform was destroyed).
    mutating func freshState() {
        statePath = directory.appendingPathComponent("state-\(UUID().uuidString.prefix(8)).sqlite").path
    }
}

extension Administration {
    /// Returns a failed processor to the pool and, when it comes back as a hot standby, waits
    /// until its agent runs.
    @discardableResult
    func repairAndWaitForBoot(_ processor: String, platform: String) async throws -> String {
        let log = Console.log(platform: platform, processor: processor)
        let size = FileManager.default.contents(atPath: log)?.count ?? 0
        let said = try await repair(processor, who: "bench")
        if said.contains("hot standby") { try await Console.waitUntilBooted(platform: platform, processor: processor, since: size) }
        return said
    }
}

/// A processor's serial console as libvirt logs it.
enum Console {
    static func log(platform: String, processor: String) -> String { Renderer.consoleLog(platform: platform, processor: processor) }

    /// Until the processor's console shows its agent ready (after byte `since` of the log); a
    /// kernel panic there calls `restart` and the wait goes on.
    static func waitUntilBooted(platform: String, processor: String, since: Int, within limit: Duration = .seconds(60),
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
        throw ValidationError("\(processor) did not boot within \(limit)")
    }

    /// The processor's last boot on its console reached "agent ready" (read as the standby chooser reads it).
    static func bootedSinceLastStart(platform: String, processor: String) -> Bool {
        let said = FileManager.default.contents(atPath: log(platform: platform, processor: processor)).map { String(decoding: $0, as: UTF8.self) }
        return LibvirtStandbyProbe.saysReady(said ?? "")
    }
}

/// A benchmark could not do what it measures (not a measured failure: those are in its report).
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
