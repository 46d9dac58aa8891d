import Foundation
import GRDB

/// The steps of moving a personality from one processor to another, in order. Each step names
/// what has been done; the failover engine performs the next one.
public enum FailoverStep: String, Codable, Sendable, CaseIterable, Comparable {
    /// The source is declared failed (or a planned move was asked for).
    case declared
    /// No standby was free: nothing is touched; retried when one appears.
    case down
    /// A target processor is reserved.
    case standbyChosen = "standby-chosen"
    /// The source could not be confirmed off: waits for `vpctl fence --confirm`.
    case awaitingFence = "awaiting-fence"
    /// The source is confirmed off: nothing can write its volumes or send from its MACs, and its
    /// NICs have left every VLAN (a stopped QEMU's tap devices are gone).
    case fenced
    /// The personality's NICs and disks are on the target (and the target runs).
    case attached
    /// The target's NICs announced their MACs (QEMU announce-self).
    case announced
    /// Heartbeats answered on every address of the personality: it is served again.
    case answered
    /// The personality's NICs and disks are removed from the source's definition too (done after
    /// the personality answers: libvirt holds a dead domain for ~1.5 s of clean-up here).
    case done

    public var isFinished: Bool { self == .done }
    private var order: Int { Self.allCases.firstIndex(of: self)! }
    public static func < (a: Self, b: Self) -> Bool { a.order < b.order }
}

/// One move of a personality, as kept in the state store: the failover engine's only memory,
/// re-read before every step so that a restarted (or a second) engine carries on where it stopped.
public struct FailoverRecord: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "failover"
    public var id: Int64?
    public var personality: String
    /// The processor the personality leaves.
    public var source: String
    public var sourceHost: String
    /// The processor that takes it (set when a standby is chosen, or by `--to`).
    public var target: String?
    public var targetHost: String?
    public var step: FailoverStep
    /// An administrator's move of a healthy processor (`vpctl failover`), not a failure.
    public var planned: Bool
    public var reason: String
    /// When the failure was first noticed (the detection's own time stamp).
    public var detectedAt: Date
    public var declaredAt: Date
    public var updatedAt: Date
    /// Who vouched that the source is off when libvirt could not confirm it.
    public var fenceConfirmedBy: String?

    public init(personality: String, source: String, sourceHost: String, target: String? = nil, targetHost: String? = nil,
                planned: Bool, reason: String, detectedAt: Date, declaredAt: Date = Date()) {
        self.personality = personality; self.source = source; self.sourceHost = sourceHost
        self.target = target; self.targetHost = targetHost; self.step = .declared; self.planned = planned
        self.reason = reason; self.detectedAt = detectedAt; self.declaredAt = declaredAt; self.updatedAt = declaredAt
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// What the platform knows about a processor beyond libvirt: `failed` until repaired;
/// `maintenance` while an apply stops or restarts it (so `vpctl serve` does not take that for a failure).
public struct ProcessorState: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "processorState"
    public enum State: String, Codable, Sendable { case failed, maintenance }
    public var processor: String
    public var state: State
    public var reason: String
    public var since: Date
    public init(processor: String, state: State, reason: String, since: Date = Date()) {
        self.processor = processor; self.state = state; self.reason = reason; self.since = since
    }
}

/// Something `vpctl events` shows: a detection, an adapter's change of state, a failover step
/// (with how long it took), an alert.
public struct PlatformEvent: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "event"
    public enum Kind: String, Codable, Sendable {
        case detection, adapterUnreachable = "adapter-unreachable", adapterReachable = "adapter-reachable"
        case hostLost = "host-lost", hostBack = "host-back", step, alert, repair, service
        /// A service IP's lookup table changed in the kernel.
        case serviceTable = "service-table"
        /// A service member's backend changed health (heartbeat reachability, health check).
        case serviceHealth = "service-health"
    }
    public var id: Int64?
    public var time: Date
    public var kind: Kind
    public var processor: String?
    public var personality: String?
    public var detail: String
    public var durationMs: Double?

    public init(time: Date = Date(), kind: Kind, processor: String? = nil, personality: String? = nil, detail: String,
                durationMs: Double? = nil) {
        self.time = time; self.kind = kind; self.processor = processor; self.personality = personality
        self.detail = detail; self.durationMs = durationMs
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension StateStore {
    // MARK: Failovers

    /// Records a declared failover and marks an unplanned move's source failed, in one
    /// transaction. Returns nil (and changes nothing) when the personality or the processor is
    /// already in an unfinished move: a second detection of the same failure is not a new one.
    public func declare(_ record: FailoverRecord, event: PlatformEvent) throws -> FailoverRecord? {
        try db.write { db in
            let busy = try FailoverRecord.filter(Column("step") != FailoverStep.done.rawValue)
                .filter(Column("personality") == record.personality || Column("source") == record.source
                        || Column("target") == record.source)
                .fetchCount(db)
            guard busy == 0 else { return nil }
            var r = record
            try r.insert(db)
            if !record.planned {
                try ProcessorState(processor: record.source, state: .failed, reason: record.reason, since: record.declaredAt).save(db)
            }
            var e = event
            try e.insert(db)
            return r
        }
    }

    public func failover(id: Int64) throws -> FailoverRecord? {
        try db.read { db in try FailoverRecord.fetchOne(db, key: id) }
    }

    public func unfinishedFailovers() throws -> [FailoverRecord] {
        try db.read { db in
            try FailoverRecord.filter(Column("step") != FailoverStep.done.rawValue).order(Column("id")).fetchAll(db)
        }
    }

    public func failovers(last limit: Int = 50) throws -> [FailoverRecord] {
        try db.read { db in try FailoverRecord.order(Column("id").desc).limit(limit).fetchAll(db).reversed() }
    }

    /// Saves a record's new step (and target), with its event; when the step moves the
    /// personality, the binding moves in the same transaction.
    public func advance(_ record: FailoverRecord, to step: FailoverStep, event: PlatformEvent?, rebind: Bool = false) throws {
        try db.write { db in
            var r = record
            r.step = step
            r.updatedAt = Date()
            try r.update(db)
            if rebind, let target = r.target {
                try db.execute(sql: "DELETE FROM binding WHERE personality = ? OR processor = ?", arguments: [r.personality, target])
                try db.execute(sql: "INSERT INTO binding (personality, processor) VALUES (?, ?)", arguments: [r.personality, target])
                var entry = JournalEntry(actor: "failover", cause: r.reason, object: "personality \(r.personality)", action: "bind",
                                         detail: "processor \(target) (from \(r.source))")
                try entry.insert(db)
            }
            if var e = event { try e.insert(db) }
        }
    }

    /// An administrator vouches that the source of every unfinished move off `processor` is off.
    /// Returns the moves it unblocks.
    public func confirmFence(processor: String, by who: String) throws -> [FailoverRecord] {
        try db.write { db in
            var records = try FailoverRecord.filter(Column("step") != FailoverStep.done.rawValue)
                .filter(Column("source") == processor).fetchAll(db)
            for i in records.indices {
                records[i].fenceConfirmedBy = who
                records[i].updatedAt = Date()
                try records[i].update(db)
            }
            var e = PlatformEvent(kind: .step, processor: processor, detail: "fence confirmed by \(who)")
            try e.insert(db)
            return records
        }
    }

    // MARK: Processor states

    public func processorStates() throws -> [String: ProcessorState] {
        try db.read { db in
            Dictionary(try ProcessorState.fetchAll(db).map { ($0.processor, $0) }, uniquingKeysWith: { a, _ in a })
        }
    }

    public func markFailed(_ processor: String, reason: String) throws {
        try db.write { db in try ProcessorState(processor: processor, state: .failed, reason: reason).save(db) }
    }

    /// Marks processors as being stopped or restarted on purpose (failed ones stay failed).
    public func setMaintenance(_ processors: [String], reason: String) throws {
        try db.write { db in
            for p in processors where try ProcessorState.fetchOne(db, key: p)?.state != .failed {
                try ProcessorState(processor: p, state: .maintenance, reason: reason).save(db)
            }
        }
    }

    public func clearMaintenance() throws {
        try db.write { db in
            try db.execute(sql: "DELETE FROM processorState WHERE state = ?", arguments: [ProcessorState.State.maintenance.rawValue])
        }
    }

    /// Returns a processor to the pool: it is no longer `failed`.
    public func clearFailed(_ processor: String, event: PlatformEvent) throws {
        try db.write { db in
            _ = try ProcessorState.deleteOne(db, key: processor)
            var e = event
            try e.insert(db)
        }
    }

    // MARK: Events

    public func record(_ event: PlatformEvent) throws {
        try db.write { db in
            var e = event
            try e.insert(db)
        }
    }

    /// Events after `id` (oldest first), or the last `limit` when `after` is nil.
    public func events(after id: Int64? = nil, limit: Int = 100) throws -> [PlatformEvent] {
        try db.read { db in
            if let id {
                return try PlatformEvent.filter(Column("id") > id).order(Column("id")).limit(limit).fetchAll(db)
            }
            return try PlatformEvent.order(Column("id").desc).limit(limit).fetchAll(db).reversed()
        }
    }

    // MARK: The service lock

    /// Holds the platform's service lock for as long as the returned lock lives: only one
    /// `vpctl serve` acts on a platform. Throws at once, naming the holder, when it is taken.
    public func acquireServiceLock() throws -> ServiceLock {
        try ServiceLock(path: path + ".serve.lock")
    }
}

/// An exclusive flock on a file that holds the holder's pid; released when deallocated or
/// when the process dies.
public final class ServiceLock: Sendable {
    private let fd: Int32
    init(path: String) throws {
        fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StateStoreError("opening the lock file \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }?
                .trimmingCharacters(in: .whitespacesAndNewlines)
            close(fd)
            throw StateStoreError("another vpctl serve (pid \(holder ?? "?")) already serves this platform (lock \(path))")
        }
        ftruncate(fd, 0)
        let pid = "\(getpid())\n"
        _ = pid.withCString { write(fd, $0, strlen($0)) }
    }
    deinit { close(fd) }
}
