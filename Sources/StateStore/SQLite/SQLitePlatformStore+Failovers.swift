import Foundation
import GRDB
import SystemSupport

extension SQLitePlatformStore {
    /// Moves neither done nor aborted.
    static var unfinished: SQLExpression { !FailoverStep.finished.map(\.rawValue).contains(Column("step")) }

    // MARK: Failovers

    /// Records a declared failover and marks an unplanned move's source failed, in one
    /// transaction. Returns nil (and changes nothing) when the personality or the processor is
    /// already in an unfinished move: a second detection of the same failure is not a new one.
    /// A move's target named up front (`vpctl failover --to`) is checked in the same transaction
    /// as any chosen standby: `MoveRefused` when it is not free, and nothing is recorded.
    public func declare(_ record: FailoverRecord, event: PlatformEvent) throws -> FailoverRecord? {
        try db.write { db in
            let unfinished = try FailoverRecord.filter(Self.unfinished).fetchAll(db)
            guard !MoveRules.isUnderWay(record, among: unfinished) else { return nil }
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

    /// `MoveRules.checkFree` on what the transaction reads.
    static func checkFree(_ target: String, for record: FailoverRecord, among unfinished: [FailoverRecord], _ db: Database) throws {
        let carrying = try String.fetchOne(db, sql: "SELECT personality FROM binding WHERE processor = ?", arguments: [target])
        let state = try ProcessorState.fetchOne(db, key: target)
        try MoveRules.checkFree(target, for: record, among: unfinished, carrying: carrying, state: state)
    }

    public func failover(id: Int64) throws -> FailoverRecord? {
        try db.read { db in try FailoverRecord.fetchOne(db, key: id) }
    }

    public func unfinishedFailovers() throws -> [FailoverRecord] {
        try db.read { db in
            try FailoverRecord.filter(Self.unfinished).order(Column("id")).fetchAll(db)
        }
    }

    public func failovers(last limit: Int) throws -> [FailoverRecord] {
        try db.read { db in try FailoverRecord.order(Column("id").desc).limit(limit).fetchAll(db).reversed() }
    }

    /// Saves a record's new step (and target), with its event; when the step moves the
    /// personality, the binding moves in the same transaction.
    public func advance(_ record: FailoverRecord, to step: FailoverStep, event: PlatformEvent?, rebind: Bool) throws {
        try db.write { db in
            var r = record
            if step == .standbyChosen, let target = r.target {
                let unfinished = try FailoverRecord.filter(Self.unfinished).fetchAll(db)
                try Self.checkFree(target, for: r, among: unfinished, db)
            }
            if step == .fenced && r.fencedAt == nil { r.fencedAt = Date() }
            r.step = step
            r.updatedAt = Date()
            try r.update(db)
            if rebind, let target = r.target {
                let carrying = try String.fetchOne(db, sql: "SELECT personality FROM binding WHERE processor = ? AND personality <> ?",
                                                   arguments: [target, r.personality])
                try MoveRules.checkRebind(r, to: target, carrying: carrying)
                try db.execute(sql: "DELETE FROM binding WHERE personality = ?", arguments: [r.personality])
                try db.execute(sql: "INSERT INTO binding (personality, processor) VALUES (?, ?)", arguments: [r.personality, target])
                var entry = JournalEntry(actor: "failover", cause: r.reason, object: "personality \(r.personality)", action: .bind,
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
                    var entry = JournalEntry(actor: "failover", cause: reason, object: "personality \(record.personality)", action: .bind,
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
            guard var r = try FailoverRecord.filter(Self.unfinished)
                .filter(Column("personality") == personality).fetchOne(db) else {
                throw PlatformError(.conflict, "personality '\(personality)'", "not being moved: nothing to abort")
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
            var records = try FailoverRecord.filter(Self.unfinished)
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
    public func events(after id: Int64?, limit: Int) throws -> [PlatformEvent] {
        try db.read { db in
            if let id {
                return try PlatformEvent.filter(Column("id") > id).order(Column("id")).limit(limit).fetchAll(db)
            }
            return try PlatformEvent.order(Column("id").desc).limit(limit).fetchAll(db).reversed()
        }
    }
}
