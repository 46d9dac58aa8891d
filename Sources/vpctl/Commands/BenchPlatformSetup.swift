import ArgumentParser
import Failover
import Foundation
import PlatformEngine

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
    static func log(platform: String, processor: String) -> String { "/var/lib/virtualplatform/\(platform)/console/\(processor).log" }

    /// Until the processor's console shows its agent ready (after byte `since` of the log).
    static func waitUntilBooted(platform: String, processor: String, since: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            // libvirt starts the log afresh at each boot (or appends): read what is new either way.
            if let data = FileManager.default.contents(atPath: log(platform: platform, processor: processor)),
               String(decoding: data.count > since ? data[since...] : data[...], as: UTF8.self).contains("vp-agent: ready") {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ValidationError("\(processor) did not boot within 60 s")
    }

    /// The processor's last boot on its console reached "agent ready" (the image's init prints
    /// "init: " first at every boot).
    static func bootedSinceLastStart(platform: String, processor: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: log(platform: platform, processor: processor)) else { return false }
        let text = String(decoding: data, as: UTF8.self)
        let start = text.range(of: "init: ", options: .backwards)?.lowerBound ?? text.startIndex
        return text[start...].contains("vp-agent: ready")
    }
}

/// A benchmark could not do what it measures (not a measured failure: those are in its report).
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
