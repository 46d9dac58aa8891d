import Foundation
import SystemSupport

extension InMemoryPlatformStore {
    // MARK: Failovers

    public func declare(_ record: FailoverRecord, event: PlatformEvent) throws -> FailoverRecord? {
        try write { t in
            let unfinished = t.unfinished
            guard !MoveRules.isUnderWay(record, among: unfinished) else { return nil }
            if let target = record.target { try Self.checkFree(target, for: record, in: t) }
            let saved = t.insert(record)
            if !record.planned {
                t.processorStates[record.source] = ProcessorState(processor: record.source, state: .failed, reason: record.reason,
                                                                  since: record.declaredAt)
            }
            t.record(event)
            return saved
        }
    }

    static func checkFree(_ target: String, for record: FailoverRecord, in t: Tables) throws {
        try MoveRules.checkFree(target, for: record, among: t.unfinished, carrying: t.carrier(of: target),
                                state: t.processorStates[target])
    }

    public func failover(id: Int64) throws -> FailoverRecord? { read { $0.failovers.first { $0.id == id } } }
    public func unfinishedFailovers() throws -> [FailoverRecord] { read { $0.unfinished } }
    public func failovers(last limit: Int) throws -> [FailoverRecord] { read { Array($0.failovers.suffix(limit)) } }

    public func advance(_ record: FailoverRecord, to step: FailoverStep, event: PlatformEvent?, rebind: Bool) throws {
        try write { t in
            var r = record
            if step == .standbyChosen, let target = r.target { try Self.checkFree(target, for: r, in: t) }
            if step == .fenced && r.fencedAt == nil { r.fencedAt = Date() }
            r.step = step
            r.updatedAt = Date()
            try t.update(r)
            if rebind, let target = r.target {
                try MoveRules.checkRebind(r, to: target, carrying: t.carrier(of: target, except: r.personality))
                try t.bind(r.personality, to: target)
                t.append(JournalEntry(actor: "failover", cause: r.reason, object: "personality \(r.personality)", action: .bind,
                                      detail: "processor \(target) (from \(r.source))"))
            }
            if let event { t.record(event) }
        }
    }

    public func giveUpTarget(_ record: FailoverRecord, reason: String, markFailed: Bool, event: PlatformEvent) throws {
        try write { t in
            if let target = record.target {
                if markFailed { t.processorStates[target] = ProcessorState(processor: target, state: .failed, reason: reason) }
                if t.bindings[record.personality] == target {
                    try t.bind(record.personality, to: record.source)
                    t.append(JournalEntry(actor: "failover", cause: reason, object: "personality \(record.personality)", action: .bind,
                                          detail: "processor \(record.source) (back from \(target), given up)"))
                }
            }
            var r = record
            r.target = nil; r.targetHost = nil; r.replugAt = nil; r.abortRequestedBy = nil
            r.step = .declared
            r.updatedAt = Date()
            try t.update(r)
            t.record(event)
        }
    }

    public func requestAbort(personality: String, by who: String) throws -> FailoverRecord {
        try write { t in
            guard var r = t.unfinished.first(where: { $0.personality == personality }) else {
                throw PlatformError(.conflict, "personality '\(personality)'", "not being moved: nothing to abort")
            }
            r.abortRequestedBy = who
            try t.update(r)
            t.record(PlatformEvent(kind: .step, processor: r.source, personality: personality,
                                   detail: "abort of the move of \(personality) asked by \(who) (step \(r.step.rawValue))"))
            return r
        }
    }

    public func finishAborted(_ record: FailoverRecord, sourceRuns: Bool, event: PlatformEvent) throws {
        try write { t in
            var r = record
            r.step = .aborted
            r.updatedAt = Date()
            try t.update(r)
            if sourceRuns { t.processorStates[record.source] = nil }
            t.record(event)
        }
    }

    public func noteReplug(_ record: FailoverRecord, event: PlatformEvent) throws {
        try write { t in
            var r = record
            r.replugAt = Date()
            try t.update(r)
            t.record(event)
        }
    }

    public func confirmFence(processor: String, by who: String) throws -> [FailoverRecord] {
        try write { t in
            var records = t.unfinished.filter { $0.source == processor }
            for i in records.indices {
                records[i].fenceConfirmedBy = who
                records[i].updatedAt = Date()
                try t.update(records[i])
            }
            t.record(PlatformEvent(kind: .step, processor: processor, detail: "fence confirmed by \(who)"))
            return records
        }
    }

    // MARK: Processor states

    public func processorStates() throws -> [String: ProcessorState] { read { $0.processorStates } }

    public func markFailed(_ processor: String, reason: String) throws {
        try write { $0.processorStates[processor] = ProcessorState(processor: processor, state: .failed, reason: reason) }
    }

    public func setMaintenance(_ processors: [String], reason: String) throws {
        try write { t in
            for p in processors where t.processorStates[p]?.state != .failed {
                t.processorStates[p] = ProcessorState(processor: p, state: .maintenance, reason: reason)
            }
        }
    }

    public func clearMaintenance() throws {
        try write { t in t.processorStates = t.processorStates.filter { $0.value.state != .maintenance } }
    }

    public func clearFailed(_ processor: String, event: PlatformEvent) throws {
        try write { t in
            t.processorStates[processor] = nil
            t.record(event)
        }
    }
}
