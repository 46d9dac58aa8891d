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
    /// Ended by `vpctl failover --abort` before the source was fenced: the personality stayed
    /// where it was. (An abort after the fence gives the target up and goes back to choosing.)
    case aborted

    public var isFinished: Bool { Self.finished.contains(self) }
    public static let finished: [FailoverStep] = [.done, .aborted]
    static var finishedRaw: [String] { finished.map(\.rawValue) }
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
    /// When the source was confirmed off: from then on the personality cannot stay where it was.
    public var fencedAt: Date?
    /// When the silent target's NICs were re-plugged (once per target).
    public var replugAt: Date?
    /// Who asked for `vpctl failover --abort`; the engine carries the abort out at its next step.
    public var abortRequestedBy: String?

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
    /// A move's target named up front (`vpctl failover --to`) is checked in the same transaction
    /// as any chosen standby: `MoveRefused` when it is not free, and nothing is recorded.
    public func declare(_ record: FailoverRecord, event: PlatformEvent) throws -> FailoverRecord? {
        try db.write { db in
            let unfinished = try FailoverRecord.filter(!FailoverStep.finishedRaw.contains(Column("step"))).fetchAll(db)
            let busy = unfinished.contains {
                $0.personality == record.personality || $0.source == record.source || $0.target == record.source
            }
            guard !busy else { return nil }
            if let target = record.target { try Self.checkFree(target, for: record, among: unfinished, db) }
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

    /// A processor may take `record`'s personality only if it is not the source or the target of
    /// another unfinished move (both are reserved until the move ends), carries no other
    /// personality, and is not failed.
    static func checkFree(_ target: String, for record: FailoverRecord, among unfinished: [FailoverRecord], _ db: Database) throws {
        guard target != record.source else {
            throw MoveRefused(processor: target, cause: "it is the processor \(record.personality) leaves")
        }
        if let move = unfinished.first(where: { $0.id != record.id && ($0.source == target || $0.target == target) }) {
            let role = move.source == target ? "source" : "target"
            throw MoveRefused(processor: target,
                              cause: "it is the \(role) of the unfinished move of \(move.personality) (step \(move.step.rawValue))")
        }
        if let other = try String.fetchOne(db, sql: "SELECT personality FROM binding WHERE processor = ?", arguments: [target]),
           other != record.personality {
            throw MoveRefused(processor: target, cause: "it carries personality '\(other)'")
        }
        if let state = try ProcessorState.fetchOne(db, key: target), state.state == .failed {
            throw MoveRefused(processor: target, cause: "it is failed (\(state.reason)); repair it first (vpctl repair \(target))")
        }
    }

    public func failover(id: Int64) throws -> FailoverRecord? {
        try db.read { db in try FailoverRecord.fetchOne(db, key: id) }
    }

    public func unfinishedFailovers() throws -> [FailoverRecord] {
        try db.read { db in
            try FailoverRecord.filter(!FailoverStep.finishedRaw.contains(Column("step"))).order(Column("id")).fetchAll(db)
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
            if step == .standbyChosen, let target = r.target {
                let unfinished = try FailoverRecord.filter(!FailoverStep.finishedRaw.contains(Column("step"))).fetchAll(db)
                try Self.checkFree(target, for: r, among: unfinished, db)
            }
            if step == .fenced && r.fencedAt == nil { r.fencedAt = Date() }
            r.step = step
            r.updatedAt = Date()
            try r.update(db)
            if rebind, let target = r.target {
                if let other = try String.fetchOne(db, sql: "SELECT personality FROM binding WHERE processor = ? AND personality <> ?",
                                                   arguments: [target, r.personality]) {
                    throw MoveRefused(processor: target, cause: "it carries personality '\(other)'; \(r.personality) is not bound to it")
                }
                try db.execute(sql: "DELETE FROM binding WHERE personality = ?", arguments: [r.personality])
                try db.execute(sql: "INSERT INTO binding (personality, processor) VALUES (?, ?)", arguments: [r.personality, target])
                var entry = JournalEntry(actor: "failover", cause: r.reason, object: "personality \(r.personality)", action: "bind",
                                         detail: "processor \(target) (from \(r.source))")
                try entry.insert(db)
            }
            if var e = event { try e.insert(db) }
        }
    }

    /// Gives up a move's target (it died, stayed silent, or an abort asked for it), once it is off
    /// and clean (or was never touched): it is marked failed if it was given anything, the
    /// personality's binding returns to the source, and the move goes back to `declared` (choose
    /// another standby) with no target.
    public func giveUpTarget(_ record: FailoverRecord, reason: String, markFailed: Bool, event: PlatformEvent) throws {
        try db.write { db in
            if let target = record.target {
                if markFailed { try ProcessorState(processor: target, state: .failed, reason: reason).save(db) }
                let person = record.personality
                let bound = try String.fetchOne(db, sql: "SELECT processor FROM binding WHERE personality = ?", arguments: [person])
                if bound == target {
                    try db.execute(sql: "UPDATE binding SET processor = ? WHERE personality = ?", arguments: [record.source, person])
                    var entry = JournalEntry(actor: "failover", cause: reason, object: "personality \(record.personality)", action: "bind",
                                             detail: "processor \(record.source) (back from \(target), given up)")
                    try entry.insert(db)
                }
            }
            var r = record
            r.target = nil; r.targetHost = nil; r.replugAt = nil; r.abortRequestedBy = nil
            r.step = .declared
            r.updatedAt = Date()
            try r.update(db)
            var e = event
            try e.insert(db)
        }
    }

    /// Records that `who` asks to abort the unfinished move of `personality`; the engine carries
    /// it out at its next step (so the request survives a killed `vpctl`).
    public func requestAbort(personality: String, by who: String) throws -> FailoverRecord {
        try db.write { db in
            guard var r = try FailoverRecord.filter(!FailoverStep.finishedRaw.contains(Column("step")))
                .filter(Column("personality") == personality).fetchOne(db) else {
                throw StateStoreError("personality '\(personality)' is not being moved: nothing to abort")
            }
            r.abortRequestedBy = who
            try r.update(db)
            var e = PlatformEvent(kind: .step, processor: r.source, personality: personality,
                                  detail: "abort of the move of \(personality) asked by \(who) (step \(r.step.rawValue))")
            try e.insert(db)
            return r
        }
    }

    /// Ends a move that never fenced its source: the personality stays where it was. A source
    /// declared failed that still runs is no longer failed (the declaration was wrong).
    public func finishAborted(_ record: FailoverRecord, sourceRuns: Bool, event: PlatformEvent) throws {
        try db.write { db in
            var r = record
            r.step = .aborted
            r.updatedAt = Date()
            try r.update(db)
            if sourceRuns { _ = try ProcessorState.deleteOne(db, key: record.source) }
            var e = event
            try e.insert(db)
        }
    }

    /// Saves when a silent target's NICs were re-plugged.
    public func noteReplug(_ record: FailoverRecord, event: PlatformEvent) throws {
        try db.write { db in
            var r = record
            r.replugAt = Date()
            try r.update(db)
            var e = event
            try e.insert(db)
        }
    }

    /// An administrator vouches that the source of every unfinished move off `processor` is off.
    /// Returns the moves it unblocks.
    public func confirmFence(processor: String, by who: String) throws -> [FailoverRecord] {
        try db.write { db in
            var records = try FailoverRecord.filter(!FailoverStep.finishedRaw.contains(Column("step")))
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

/// A move that would give a processor a personality it cannot take; nothing was changed.
public struct MoveRefused: Error, CustomStringConvertible, Sendable, Equatable {
    public let processor: String
    public let cause: String
    public init(processor: String, cause: String) { self.processor = processor; self.cause = cause }
    public var description: String { "processor '\(processor)' cannot take the personality: \(cause); nothing was changed" }
}
