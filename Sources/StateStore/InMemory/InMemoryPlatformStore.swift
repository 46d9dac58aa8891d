import Foundation
import PlatformModel
import Synchronization
import SystemSupport

/// The platform store in memory, for unit tests of the engine without files: plain tables behind
/// one mutex. Every operation works on a copy of the tables and keeps it only when it returns, so
/// an operation that throws changes nothing (the transactions of the contract). Handles on the
/// same store are the same object; its locks exclude other tasks of this process.
public final class InMemoryPlatformStore: PlatformStore {
    /// Names the store in lock errors.
    public let name: String
    private let tables = Mutex(Tables())
    private let locks = Mutex(Locks())

    public let changes = StoreChanges()

    public init(name: String = "in-memory store") { self.name = name }

    struct Locks {
        var platform: LockHolder?
        var service = false
    }

    func read<T>(_ body: (Tables) throws -> T) rethrows -> T {
        try tables.withLock { try body($0) }
    }

    /// One transaction: `body` changes a copy, which replaces the tables only if it returns
    /// (with a new state revision when what status shows changed).
    func write<T>(_ body: (inout Tables) throws -> T) throws -> T {
        let result = try tables.withLock { tables in
            var copy = tables
            let result = try body(&copy)
            if !copy.sameState(as: tables) { copy.stateRevision += 1 }
            tables = copy
            return result
        }
        changes.signal()
        return result
    }

    // MARK: Bindings, allocations, journal

    public func bindings() throws -> [String: String] { read { $0.bindings } }
    public func allocations() throws -> [String: NICAllocation] { read { $0.allocations } }

    public func remember(bindings: [String: String], newAllocations: [NICAllocation], actor: String, cause: String) throws {
        try write { t in
            let old = t.bindings
            guard old != bindings || !newAllocations.isEmpty else { return }
            try MoveRules.checkOnePersonalityEach(bindings)
            t.bindings = bindings
            for (personality, processor) in bindings.sorted(by: { $0.key < $1.key }) where old[personality] != processor {
                t.append(JournalEntry(actor: actor, cause: cause, object: "personality \(personality)", action: .bind,
                                      detail: "processor \(processor)"))
            }
            for a in newAllocations {
                // A MAC freed by a removed NIC may be handed to another: drop the stale holder.
                t.allocations = t.allocations.filter { $0.value.mac != a.mac || $0.key == a.key }
                t.allocations[a.key] = a
                t.append(JournalEntry(actor: actor, cause: cause, object: "nic \(a.key)", action: .allocate,
                                      detail: "mac \(a.mac) ip \(a.ip)"))
            }
        }
    }

    public func forgetPlatform(actor: String, cause: String) throws {
        try write { t in
            t.bindings = [:]; t.allocations = [:]; t.failovers = []; t.processorStates = [:]; t.backendHealth = [:]
            t.append(JournalEntry(actor: actor, cause: cause, object: "platform", action: .forget,
                                  detail: "bindings, allocations, failovers and processor states cleared"))
        }
    }

    public func append(_ entry: JournalEntry) throws { try write { $0.append(entry) } }

    public func write(_ batch: [StoreWrite]) throws {
        try write { t in
            for write in batch {
                switch write {
                case .journal(let entry): t.append(entry)
                case .createdVolume(let host, let pool, let name):
                    t.volumes[Tables.VolumeKey(host: host, pool: pool, name: name)] = VolumeRecord(host: host, pool: pool, name: name)
                case .forgottenVolume(let host, let pool, let name): t.volumes[Tables.VolumeKey(host: host, pool: pool, name: name)] = nil
                }
            }
        }
    }
    public func journal(last limit: Int) throws -> [JournalEntry] { read { Array($0.journal.suffix(limit)) } }

    public func stateRevision() throws -> Int64 { read { $0.stateRevision } }

    // MARK: Events

    public func record(_ event: PlatformEvent) throws { try write { $0.record(event) } }

    public func events(after id: Int64?, limit: Int) throws -> [PlatformEvent] {
        read { t in
            guard let id else { return Array(t.events.suffix(limit)) }
            return Array(t.events.lazy.filter { $0.id! > id }.prefix(limit))
        }
    }

    // MARK: Service backends and volumes

    public func backendHealth() throws -> [BackendHealthRecord] {
        read { $0.backendHealth.values.sorted { ($0.probe.rawValue, $0.subject) < ($1.probe.rawValue, $1.subject) } }
    }

    public func saveBackendHealth(_ records: [BackendHealthRecord], events: [PlatformEvent]) throws {
        try write { t in
            for r in records { t.backendHealth[Tables.HealthKey(probe: r.probe, subject: r.subject)] = r }
            for e in events { t.record(e) }
        }
    }

    public func createdVolumes() throws -> [VolumeRecord] {
        read { $0.volumes.values.sorted { ($0.host, $0.pool, $0.name) < ($1.host, $1.pool, $1.name) } }
    }

    public func recordCreatedVolume(host: String, pool: String, name: String) throws {
        try write { $0.volumes[Tables.VolumeKey(host: host, pool: pool, name: name)] = VolumeRecord(host: host, pool: pool, name: name) }
    }

    public func forgetVolume(host: String, pool: String, name: String) throws {
        try write { $0.volumes[Tables.VolumeKey(host: host, pool: pool, name: name)] = nil }
    }

    // MARK: Locks

    /// Polls like the file store's flock does: a waiter must be able to give up at its deadline
    /// and report the holder, which a plain queue of waiters would not do.
    public func exclusively<T>(deadline: Duration, waiting: (LockHolder) -> Void, _ body: () async throws -> T) async throws -> T {
        let started = ContinuousClock.now
        var reported = false
        while let holder = locks.withLock({ locks -> LockHolder? in
            if let holder = locks.platform { return holder }
            locks.platform = .current
            return nil
        }) {
            guard ContinuousClock.now - started < deadline else { throw LockTimeout(lock: name, holder: holder, waited: deadline) }
            if !reported { waiting(holder); reported = true }
            try await Task.sleep(for: .milliseconds(50))
        }
        defer { locks.withLock { $0.platform = nil } }
        return try await body()
    }

    public func acquireServiceLock() throws -> any ServiceLock {
        let taken = locks.withLock { locks in
            defer { locks.service = true }
            return locks.service
        }
        guard !taken else { throw PlatformError(.conflict, "platform \(name)", "another vpctl serve (pid \(getpid())) already serves it") }
        return InMemoryServiceLock { [self] in locks.withLock { $0.service = false } }
    }
}

/// Releases an in-memory store's service lock when it is deallocated.
final class InMemoryServiceLock: ServiceLock {
    private let release: @Sendable () -> Void
    init(release: @escaping @Sendable () -> Void) { self.release = release }
    deinit { release() }
}
