import Foundation
import PlatformModel
import SystemSupport

extension InMemoryPlatformStore {
    /// What the store holds: the SQLite store's tables as plain values, with the identifiers they
    /// hand out (growing, never reused, like SQLite's AUTOINCREMENT).
    struct Tables {
        struct HealthKey: Hashable { var probe: BackendHealthRecord.Probe; var subject: String }
        struct VolumeKey: Hashable { var host: String; var pool: String; var name: String }

        var bindings: [String: String] = [:]
        var allocations: [String: NICAllocation] = [:]
        var journal: [JournalEntry] = []
        /// Oldest first.
        var failovers: [FailoverRecord] = []
        var processorStates: [String: ProcessorState] = [:]
        var events: [PlatformEvent] = []
        var backendHealth: [HealthKey: BackendHealthRecord] = [:]
        var volumes: [VolumeKey: VolumeRecord] = [:]
        /// Bumped by each write that changes what `sameState` compares.
        var stateRevision: Int64 = 0
        private var lastJournalID: Int64 = 0
        private var lastFailoverID: Int64 = 0
        private var lastEventID: Int64 = 0

        /// The same bindings, allocations, moves, processor states and backend health.
        func sameState(as other: Tables) -> Bool {
            bindings == other.bindings && allocations == other.allocations && failovers == other.failovers
                && processorStates == other.processorStates && backendHealth == other.backendHealth
        }

        mutating func append(_ entry: JournalEntry) {
            var e = entry
            lastJournalID += 1
            e.id = lastJournalID
            journal.append(e)
        }

        mutating func record(_ event: PlatformEvent) {
            var e = event
            lastEventID += 1
            e.id = lastEventID
            events.append(e)
        }

        mutating func insert(_ record: FailoverRecord) -> FailoverRecord {
            var r = record
            lastFailoverID += 1
            r.id = lastFailoverID
            failovers.append(r)
            return r
        }

        mutating func update(_ record: FailoverRecord) throws {
            guard let i = failovers.firstIndex(where: { $0.id != nil && $0.id == record.id }) else {
                let id = record.id.map { "failover \($0)" } ?? "a failover without an id"
                throw PlatformError(.internal, "the move of \(record.personality)", "cannot save it: \(id) is not in the store")
            }
            failovers[i] = record
        }

        var unfinished: [FailoverRecord] { failovers.filter { !$0.step.isFinished } }

        /// The personality bound to `processor`, other than `except`.
        func carrier(of processor: String, except: String? = nil) -> String? {
            bindings.first { $0.value == processor && $0.key != except }?.key
        }

        mutating func bind(_ personality: String, to processor: String) throws {
            var next = bindings
            next[personality] = processor
            try MoveRules.checkOnePersonalityEach(next)
            bindings = next
        }
    }
}
