import Foundation
import PlatformModel
import StateStore
import SystemSupport
import TestSupport
import Testing

/// The guarantees of `PlatformStore` (its documentation lists them), checked on every
/// implementation. Bindings, allocations, journal, processor states, backend health and volumes
/// here; moves in +Failovers, locks in +Locks.
@Suite struct PlatformStoreContract {
    static let mac1 = "02:56:50:00:00:01", mac2 = "02:56:50:00:00:02"

    @Test(arguments: StoreKind.allCases)
    func rememberJournalsEachChangedBindingAndEachAllocationAndNothingWhenNothingChanges(_ kind: StoreKind) throws {
        let store = try kind.make()
        try store.remember(bindings: ["web": "p1"], newAllocations: [NICAllocation(key: "web/front", mac: Self.mac1, ip: "10.0.0.10")],
                           actor: "t", cause: "c")
        #expect(try store.bindings() == ["web": "p1"])
        #expect(try store.allocations()["web/front"] == NICAllocation(key: "web/front", mac: Self.mac1, ip: "10.0.0.10"))
        #expect(try store.journal().map(\.action) == [.bind, .allocate])
        try store.remember(bindings: ["web": "p1"], newAllocations: [], actor: "t", cause: "again")
        try store.remember(bindings: ["web": "p1", "db": "p2"], newAllocations: [], actor: "t", cause: "db")
        #expect(try store.journal().map(\.object) == ["personality web", "nic web/front", "personality db"], "only db's binding changed")
        #expect(try kind.reopen(store).bindings() == ["web": "p1", "db": "p2"], "another handle reads what was written")
    }

    /// The move loop sleeps on `changes`: a committed change must wake it, a refused one need not.
    @Test(arguments: StoreKind.allCases)
    func aCommittedChangeWakesAWaiterAndNothingElseDoes(_ kind: StoreKind) async throws {
        let store = try kind.make()
        let clock = ContinuousClock()
        // Whatever making the store signalled is taken first.
        await store.changes.wait(upTo: .milliseconds(1))
        var waited = await clock.measure { await store.changes.wait(upTo: .milliseconds(300)) }
        #expect(waited >= .milliseconds(300), "nothing changed: the wait ran to its limit (\(waited))")

        let waiter = Task { await clock.measure { await store.changes.wait(upTo: .seconds(30)) } }
        try await Task.sleep(for: .milliseconds(50))
        try store.remember(bindings: ["web": "p1"], newAllocations: [], actor: "t", cause: "c")
        waited = await waiter.value
        #expect(waited < .seconds(10), "the commit woke the waiter (after \(waited))")

        // A signal before the wait is not lost.
        try store.remember(bindings: ["web": "p2"], newAllocations: [], actor: "t", cause: "c")
        waited = await clock.measure { await store.changes.wait(upTo: .seconds(30)) }
        #expect(waited < .seconds(1))
    }

    @Test(arguments: StoreKind.allCases)
    func aProcessorCarriesOnePersonalityAtMostAndARefusedChangeKeepsNothing(_ kind: StoreKind) throws {
        let store = try kind.make()
        try store.remember(bindings: ["web": "p1"], newAllocations: [], actor: "t", cause: "c")
        #expect(kindThrown {
            try store.remember(bindings: ["web": "p2", "db": "p2"],
                               newAllocations: [NICAllocation(key: "db/v", mac: Self.mac2, ip: "10.0.0.11")], actor: "t", cause: "c")
        } == .conflict)
        #expect(try store.bindings() == ["web": "p1"])
        #expect(try store.allocations().isEmpty)
        #expect(try store.journal().count == 1)
    }

    @Test(arguments: StoreKind.allCases)
    func aMACBelongsToOneNIC(_ kind: StoreKind) throws {
        let store = try kind.make()
        try store.remember(bindings: [:], newAllocations: [NICAllocation(key: "web/old", mac: Self.mac1, ip: "10.0.0.10")],
                           actor: "t", cause: "c")
        // The NIC was removed and its MAC handed to another.
        try store.remember(bindings: [:], newAllocations: [NICAllocation(key: "db/v", mac: Self.mac1, ip: "10.0.0.11")],
                           actor: "t", cause: "c")
        #expect(try store.allocations() == ["db/v": NICAllocation(key: "db/v", mac: Self.mac1, ip: "10.0.0.11")])
    }

    @Test(arguments: StoreKind.allCases)
    func twoHandlesWriteConcurrentlyWithoutLosingEntries(_ kind: StoreKind) async throws {
        let a = try kind.make()
        let b = try kind.reopen(a)
        await withTaskGroup(of: Void.self) { group in
            for (store, name) in [(a, "a"), (b, "b")] {
                group.addTask {
                    for i in 0..<100 { try? store.append(JournalEntry(actor: name, cause: "test", object: "o\(i)", action: .create)) }
                }
            }
        }
        let journal = try a.journal(last: 1000)
        #expect(journal.count == 200)
        #expect(Set(journal.compactMap(\.id)).count == 200, "every entry has an id of its own")
    }

    @Test(arguments: StoreKind.allCases)
    func forgettingThePlatformKeepsTheJournalTheEventsAndTheVolumes(_ kind: StoreKind) throws {
        let store = try kind.make()
        try store.remember(bindings: ["web": "p1"], newAllocations: [NICAllocation(key: "web/v", mac: Self.mac1, ip: "10.0.0.10")],
                           actor: "t", cause: "c")
        let move = FailoverRecord(personality: "web", source: "p1", sourceHost: "a", planned: false, reason: "t", detectedAt: Date())
        _ = try store.declare(move, event: PlatformEvent(kind: .detection, detail: "x"))
        try store.saveBackendHealth([BackendHealthRecord(probe: .heartbeat, subject: "10.0.0.10", up: false, reason: "missed")], events: [])
        try store.recordCreatedVolume(host: "a", pool: "data", name: "v1")
        try store.forgetPlatform(actor: "t", cause: "destroy")
        #expect(try store.bindings().isEmpty)
        #expect(try store.allocations().isEmpty)
        #expect(try store.failovers().isEmpty)
        #expect(try store.processorStates().isEmpty)
        #expect(try store.backendHealth().isEmpty)
        #expect(try store.journal().last?.action == .forget)
        #expect(try store.events().map(\.kind) == [.detection])
        #expect(try store.createdVolumes().map(\.name) == ["v1"])
    }

    @Test(arguments: StoreKind.allCases)
    func maintenanceNeverHidesAFailure(_ kind: StoreKind) throws {
        let store = try kind.make()
        try store.markFailed("p1", reason: "died")
        try store.setMaintenance(["p1", "p2"], reason: "apply")
        #expect(try store.processorStates().mapValues(\.state) == ["p1": .failed, "p2": .maintenance])
        try store.clearMaintenance()
        #expect(try store.processorStates().mapValues(\.state) == ["p1": .failed])
        try store.clearFailed("p1", event: PlatformEvent(kind: .repair, processor: "p1", detail: "repaired"))
        #expect(try store.processorStates().isEmpty)
        #expect(try store.events().map(\.kind) == [.repair])
    }

    @Test(arguments: StoreKind.allCases)
    func backendHealthIsOneRowPerProbeAndSubjectSavedWithItsEvents(_ kind: StoreKind) throws {
        let store = try kind.make()
        let check = BackendHealthRecord.checkSubject(service: "web", member: "a")
        try store.saveBackendHealth([BackendHealthRecord(probe: .heartbeat, subject: "10.0.0.10", up: false, reason: "missed"),
                                     BackendHealthRecord(probe: .check, subject: check, up: true, reason: "HTTP 200")],
                                    events: [PlatformEvent(kind: .serviceHealth, detail: "10.0.0.10 down")])
        try store.saveBackendHealth([BackendHealthRecord(probe: .heartbeat, subject: "10.0.0.10", up: true, reason: "answers")], events: [])
        let rows = try kind.reopen(store).backendHealth()
        #expect(rows.count == 2)
        let heartbeat = try #require(rows.first { $0.probe == .heartbeat })
        #expect(heartbeat.up && heartbeat.reason == "answers", "the second save replaced the first")
        #expect(rows.first { $0.probe == .check }?.subject == check)
        #expect(try store.events().map(\.kind) == [.serviceHealth])
    }

    @Test(arguments: StoreKind.allCases)
    func createdVolumesAreRememberedOnceInOrderAndForgotten(_ kind: StoreKind) throws {
        let store = try kind.make()
        try store.recordCreatedVolume(host: "local", pool: "data", name: "v2")
        try store.recordCreatedVolume(host: "local", pool: "data", name: "v1")
        try store.recordCreatedVolume(host: "local", pool: "data", name: "v1") // recorded once
        let again = try kind.reopen(store)
        #expect(try again.createdVolumes().map { "\($0.host) \($0.pool)/\($0.name)" } == ["local data/v1", "local data/v2"])
        try again.forgetVolume(host: "local", pool: "data", name: "v1")
        #expect(try store.createdVolumes().map(\.name) == ["v2"])
    }

    @Test(arguments: StoreKind.allCases)
    func aBatchIsWrittenInOrder(_ kind: StoreKind) throws {
        let store = try kind.make()
        try store.recordCreatedVolume(host: "local", pool: "data", name: "old")
        try store.write([
            .journal(JournalEntry(actor: "t", cause: "c", object: "storage pool data on local", action: .create)),
            .createdVolume(host: "local", pool: "data", name: "v1"),
            .createdVolume(host: "local", pool: "data", name: "v2"),
            .forgottenVolume(host: "local", pool: "data", name: "v1"), // a rollback in the same batch
            .forgottenVolume(host: "local", pool: "data", name: "old"),
            .journal(JournalEntry(actor: "t", cause: "c", object: "platform", action: .rollback)),
        ])
        let again = try kind.reopen(store)
        #expect(try again.createdVolumes().map(\.name) == ["v2"])
        #expect(try again.journal().map(\.action) == [.create, .rollback])
    }

    @Test(arguments: StoreKind.allCases)
    func theStateRevisionMovesWithEveryChangeStatusShowsAndOnlyThen(_ kind: StoreKind) throws {
        let store = try kind.make()
        let other = try kind.reopen(store)
        var seen = try store.stateRevision()
        /// `change` through the other handle must give a revision this handle has not seen.
        func expectNewRevision(_ what: Comment, _ change: () throws -> Void) throws {
            try change()
            let now = try store.stateRevision()
            #expect(now != seen, what)
            seen = now
        }
        try expectNewRevision("a binding") { try other.remember(bindings: ["web": "p1"], newAllocations: [], actor: "t", cause: "c") }
        try expectNewRevision("an allocation") {
            try other.remember(bindings: ["web": "p1"], newAllocations: [NICAllocation(key: "web/v", mac: Self.mac1, ip: "10.0.0.10")],
                               actor: "t", cause: "c")
        }
        try expectNewRevision("a processor failed") { try other.markFailed("p2", reason: "test") }
        try expectNewRevision("backend health") {
            try other.saveBackendHealth([BackendHealthRecord(probe: .heartbeat, subject: "10.0.0.10", up: false, reason: "missed")], events: [])
        }
        try expectNewRevision("a move declared") {
            let move = FailoverRecord(personality: "web", source: "p1", sourceHost: "a", planned: true, reason: "t", detectedAt: Date())
            _ = try other.declare(move, event: PlatformEvent(kind: .detection, detail: "x"))
        }
        // What status does not show leaves it alone: a stream of events must not make status rebuild.
        try other.record(PlatformEvent(kind: .service, detail: "e"))
        try other.append(JournalEntry(actor: "t", cause: "c", object: "o", action: .create))
        try other.recordCreatedVolume(host: "local", pool: "data", name: "v1")
        _ = try other.events(limit: 10)
        #expect(try store.stateRevision() == seen, "events, journal lines, volumes and reads are no change of state")
    }
}
