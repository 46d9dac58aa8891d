import Failover
import Foundation
import Hosts
import Logging
import PlatformEngine
import StateStore

/// A platform of its own for a benchmark or an end-to-end test: its definition written to a
/// directory of its own, the state store beside it, the engines that act on it, and what runs
/// against it (the failover service in this process, `vpctl serve` children), all ended by
/// `tearDown`.
public final class OwnPlatform: @unchecked Sendable {
    public let name: String
    public let directory: URL
    public let file: String
    /// The state store; a new one after `freshState()`.
    public private(set) var statePath: String
    public private(set) var engine: PlatformEngine
    public private(set) var failover: FailoverEngine
    public var store: any PlatformStore { engine.store }
    /// Where the `vpctl serve` children write their logs.
    public var serveLog: String { directory.appendingPathComponent("serve.log").path }
    private var service: Task<Void, Error>?
    private var children: [ServeChild] = []

    /// A platform of the given definition (YAML) whose name is `name`.
    public init(name: String, definition yaml: String) throws {
        self.name = name
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("vp-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        file = directory.appendingPathComponent("\(name).yaml").path
        statePath = directory.appendingPathComponent("state.sqlite").path
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        (engine, failover) = try Self.engines(file: file, statePath: statePath)
    }

    /// The platform engine and a failover engine sharing its connections and store.
    private static func engines(file: String, statePath: String) throws -> (PlatformEngine, FailoverEngine) {
        let platform = try PlatformEngine(file: file, statePath: statePath)
        let uris = Dictionary(platform.definition.hosts.map { ($0.name, $0.uri) }, uniquingKeysWith: { a, _ in a })
        return (platform, try FailoverEngine(definition: platform.definition, store: platform.store,
                                             hosts: PlatformHosts(uris: uris, connections: platform.connections)))
    }

    /// New engines and libvirt connections (after a libvirtd restart the old ones are closed).
    public func refresh() throws { (engine, failover) = try Self.engines(file: file, statePath: statePath) }

    /// Starts over with an empty state store (after the platform was destroyed).
    public func freshState() throws {
        statePath = directory.appendingPathComponent("state-\(UUID().uuidString.prefix(8)).sqlite").path
        try refresh()
    }

    // MARK: The failover service

    /// Runs the failover service in this process until `stopService`.
    public func startService(logger: Logger, onDeclared: @escaping @Sendable (FailoverRecord) -> Void = { _ in }) {
        let service = FailoverService(engine: failover, logger: logger, onDeclared: onDeclared)
        self.service = Task { try await service.run() }
    }

    /// Cancels the in-process service and waits for it (at most `limit`).
    public func stopService(within limit: Duration = .seconds(30)) async {
        guard let service else { return }
        self.service = nil
        service.cancel()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { _ = await service.result }
            group.addTask { try? await Task.sleep(for: limit) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Starts `vpctl serve -f FILE --state STATE EXTRA…` as a child process, logging to
    /// `serveLog`; `tearDown` stops it if nothing else did.
    public func startServe(_ extra: [String] = []) throws -> ServeChild {
        let child = try ServeChild(file: file, state: statePath, extra: extra, log: serveLog)
        children.append(child)
        return child
    }

    /// Until serve (in this process or a child) records that it watches `processors`: their
    /// heartbeats armed (every address answered once) and their QEMU processes watched.
    public func waitUntilWatching(_ processors: [String], within limit: Duration = .seconds(20)) async throws {
        let deadline = ContinuousClock.now + limit
        while try !watches(processors) {
            guard ContinuousClock.now < deadline else { throw HarnessError("serve of \(name)", "does not watch \(processors) within \(limit)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    private func watches(_ processors: [String]) throws -> Bool {
        guard let last = try store.events(limit: 200).last(where: { $0.kind == .service && $0.detail.hasPrefix("watching:") }) else {
            return false
        }
        // "watching: heartbeats armed for [a, b]; QEMU process watched for [a, b]"
        let lists = last.detail.split(separator: "[").dropFirst().map {
            $0.prefix { $0 != "]" }.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        return lists.count == 2 && lists.allSatisfy { Set($0).isSuperset(of: processors) }
    }

    // MARK: Teardown

    /// Stops the service and the serve children first (one left running declares the processors
    /// failed as they are destroyed, and contends for the platform lock), then removes the
    /// platform. Never throws: it runs on every way out; what it could not remove it returns.
    @discardableResult
    public func tearDown(cause: String) async -> (any Error)? {
        await stopService()
        for child in children { await child.stop() }
        children = []
        do {
            try await engine.destroy(cause: cause)
            return nil
        } catch {
            return error
        }
    }
}
