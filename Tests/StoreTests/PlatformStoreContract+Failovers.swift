import Foundation
import StateStore
import SystemSupport
import TestSupport
import Testing

/// Moves: a detection de-duplicated, a target checked free in the transaction that saves it, a
/// step and its rebinding together, a given-up target, fences, aborts, resumable reads.
extension PlatformStoreContract {
    func record(_ person: String = "web", _ source: String = "p1", planned: Bool = false, to target: String? = nil) -> FailoverRecord {
        FailoverRecord(personality: person, source: source, sourceHost: "a", target: target, targetHost: target.map { _ in "a" },
                       planned: planned, reason: "test", detectedAt: Date())
    }

    func detection(_ detail: String = "x") -> PlatformEvent { PlatformEvent(kind: .detection, detail: detail) }

    /// web on p1, db on p2; p3 and p4 free.
    func bound(_ kind: StoreKind) throws -> any PlatformStore {
        let store = try kind.make()
        try store.remember(bindings: ["web": "p1", "db": "p2"], newAllocations: [], actor: "t", cause: "t")
        return store
    }

    @Test(arguments: StoreKind.allCases)
    func aSecondDetectionOfTheSameFailureIsNotASecondMove(_ kind: StoreKind) throws {
        let s = try bound(kind)
        let first = try #require(try s.declare(record(), event: detection("libvirt")))
        #expect(first.id != nil)
        #expect(try s.declare(record(), event: detection("heartbeat")) == nil)
        #expect(try s.declare(record("web", "p9"), event: detection()) == nil, "the personality is already moving")
        #expect(try s.unfinishedFailovers().count == 1)
        #expect(try s.events().map(\.detail) == ["libvirt"], "a refused detection records nothing")
        #expect(try s.processorStates()["p1"]?.state == .failed)
        // Another processor's failure is a move of its own.
        #expect(try s.declare(record("db", "p2"), event: detection()) != nil)
    }

    @Test(arguments: StoreKind.allCases)
    func theTargetOfAnUnfinishedMoveFailingIsNotANewMove(_ kind: StoreKind) throws {
        let s = try bound(kind)
        var web = try #require(try s.declare(record(), event: detection()))
        web.target = "p3"; web.targetHost = "a"
        try s.advance(web, to: .standbyChosen, event: nil)
        #expect(try s.declare(record("other", "p3"), event: detection()) == nil, "p3 belongs to web's move")
    }

    @Test(arguments: StoreKind.allCases)
    func aPlannedMoveLeavesItsSourceUnfailed(_ kind: StoreKind) throws {
        let s = try bound(kind)
        _ = try #require(try s.declare(record(planned: true), event: detection()))
        #expect(try s.processorStates().isEmpty)
    }

    @Test(arguments: StoreKind.allCases)
    func aMoveRebindsThePersonalityWhenItsDevicesLandAndIsResumableFromTheStore(_ kind: StoreKind) throws {
        let s = try bound(kind)
        var r = try #require(try s.declare(record(), event: detection()))
        r.target = "p3"; r.targetHost = "a"
        try s.advance(r, to: .standbyChosen, event: PlatformEvent(kind: .step, personality: "web", detail: "standby-chosen"))
        #expect(try s.bindings()["web"] == "p1")
        try s.advance(try #require(try s.failover(id: r.id!)), to: .fenced, event: nil)
        try s.advance(try #require(try s.failover(id: r.id!)), to: .attached, event: nil, rebind: true)
        #expect(try s.bindings() == ["web": "p3", "db": "p2"])
        let bind = try #require(try s.journal().last)
        #expect(bind.action == .bind && bind.object == "personality web", "the rebinding is journalled with the step")
        // A fresh reader (a restarted serve) sees exactly where the move stands.
        let again = try kind.reopen(s)
        let resumed = try #require(try again.unfinishedFailovers().first)
        #expect(resumed.step == .attached && resumed.target == "p3" && resumed.fencedAt != nil)
        try again.advance(resumed, to: .done, event: nil)
        #expect(try again.unfinishedFailovers().isEmpty)
        #expect(try s.failovers().map(\.step) == [.done])
        #expect(try s.events().map(\.detail) == ["x", "standby-chosen"])
    }

    @Test(arguments: StoreKind.allCases)
    func theFenceTimeIsKeptFromTheFirstFenceAndAReplugIsNoted(_ kind: StoreKind) throws {
        let s = try bound(kind)
        var r = try #require(try s.declare(record(), event: detection()))
        r.target = "p3"; r.targetHost = "a"
        try s.advance(r, to: .fenced, event: nil)
        let fenced = try #require(try s.failover(id: r.id!)?.fencedAt)
        try s.advance(try #require(try s.failover(id: r.id!)), to: .fenced, event: nil)
        #expect(try s.failover(id: r.id!)?.fencedAt == fenced)
        try s.noteReplug(try #require(try s.failover(id: r.id!)), event: PlatformEvent(kind: .step, detail: "replug"))
        #expect(try s.failover(id: r.id!)?.replugAt != nil)
    }

    @Test(arguments: StoreKind.allCases)
    func failoverToAProcessorThatIsNotFreeIsRefusedWithNothingRecorded(_ kind: StoreKind) throws {
        let s = try bound(kind)
        #expect(throws: MoveRefused(processor: "p2", cause: "it carries personality 'db'")) {
            try s.declare(record(planned: true, to: "p2"), event: detection())
        }
        #expect(throws: MoveRefused.self, "its own source") { try s.declare(record(planned: true, to: "p1"), event: detection()) }
        try s.markFailed("p4", reason: "test")
        #expect(throws: MoveRefused.self, "a failed processor") { try s.declare(record(planned: true, to: "p4"), event: detection()) }
        // p3 is promised to db's move: web cannot be sent there.
        var db = try #require(try s.declare(record("db", "p2"), event: detection()))
        db.target = "p3"; db.targetHost = "a"
        try s.advance(db, to: .standbyChosen, event: nil)
        #expect(throws: MoveRefused.self, "the target of another move") {
            try s.declare(record(planned: true, to: "p3"), event: detection())
        }
        #expect(try s.unfinishedFailovers().map(\.personality) == ["db"], "nothing recorded for web")
        #expect(try s.events().count == 1, "nor any event")
    }

    @Test(arguments: StoreKind.allCases)
    func aChosenTargetIsCheckedAgainWhenSaved(_ kind: StoreKind) throws {
        let s = try bound(kind)
        var web = try #require(try s.declare(record(), event: detection()))
        var db = try #require(try s.declare(record("db", "p2"), event: detection()))
        web.target = "p3"; web.targetHost = "a"
        try s.advance(web, to: .standbyChosen, event: nil)
        db.target = "p3"; db.targetHost = "a"
        #expect(throws: MoveRefused.self) { try s.advance(db, to: .standbyChosen, event: PlatformEvent(kind: .step, detail: "lost")) }
        #expect(try s.failover(id: db.id!)?.step == .declared)
        #expect(!(try s.events().contains { $0.detail == "lost" }), "the refused step's event is not kept")
    }

    @Test(arguments: StoreKind.allCases)
    func rebindingNeverDropsAnotherPersonalitysBinding(_ kind: StoreKind) throws {
        let s = try bound(kind)
        var web = try #require(try s.declare(record(), event: detection()))
        web.target = "p2"; web.targetHost = "a" // db's processor
        #expect(throws: MoveRefused.self) { try s.advance(web, to: .attached, event: nil, rebind: true) }
        #expect(try s.bindings() == ["web": "p1", "db": "p2"])
        #expect(try s.failover(id: web.id!)?.step == .declared, "nothing saved")
    }

    @Test(arguments: StoreKind.allCases)
    func givingUpATargetReturnsTheBindingAndTheMoveToChoosingTogether(_ kind: StoreKind) throws {
        let s = try bound(kind)
        var r = try #require(try s.declare(record(), event: detection()))
        r.target = "p3"; r.targetHost = "a"
        try s.advance(r, to: .attached, event: nil, rebind: true)
        try s.giveUpTarget(try #require(try s.failover(id: r.id!)), reason: "p3 died", markFailed: true,
                           event: PlatformEvent(kind: .step, detail: "given up"))
        let back = try #require(try s.failover(id: r.id!))
        #expect(back.step == .declared && back.target == nil && back.targetHost == nil)
        #expect(try s.bindings()["web"] == "p1")
        #expect(try s.processorStates()["p3"]?.state == .failed)
        #expect(try s.events().last?.detail == "given up")
        // A target never given anything is given up without being marked.
        var again = back
        again.target = "p4"; again.targetHost = "a"
        try s.advance(again, to: .standbyChosen, event: nil)
        try s.giveUpTarget(try #require(try s.failover(id: r.id!)), reason: "silent", markFailed: false, event: detection())
        #expect(try s.processorStates()["p4"] == nil)
    }

    @Test(arguments: StoreKind.allCases)
    func anAdministratorVouchesForAFenceThatCouldNotBeConfirmed(_ kind: StoreKind) throws {
        let s = try bound(kind)
        let r = try #require(try s.declare(record(), event: detection()))
        try s.advance(r, to: .awaitingFence, event: nil)
        #expect(try s.confirmFence(processor: "p1", by: "alice@host").map(\.personality) == ["web"])
        #expect(try s.failover(id: r.id!)?.fenceConfirmedBy == "alice@host")
        #expect(try s.events().last?.detail == "fence confirmed by alice@host")
    }

    @Test(arguments: StoreKind.allCases)
    func anAbortIsRecordedForTheEngineAndEndsTheMove(_ kind: StoreKind) throws {
        let s = try bound(kind)
        #expect(kindThrown { try s.requestAbort(personality: "web", by: "bob") } == .conflict, "nothing to abort")
        let r = try #require(try s.declare(record(), event: detection()))
        #expect(try s.requestAbort(personality: "web", by: "bob").abortRequestedBy == "bob")
        #expect(try s.failover(id: r.id!)?.abortRequestedBy == "bob", "the request survives the asker")
        try s.finishAborted(try #require(try s.failover(id: r.id!)), sourceRuns: true, event: PlatformEvent(kind: .step, detail: "aborted"))
        #expect(try s.unfinishedFailovers().isEmpty)
        #expect(try s.processorStates()["p1"] == nil, "a source that runs was wrongly declared failed")
        #expect(try s.declare(record(), event: detection()) != nil, "an ended move does not hold back the next")
    }

    @Test(arguments: StoreKind.allCases)
    func identifiersGrowAndAReaderResumesAfterTheLastEventItSaw(_ kind: StoreKind) throws {
        let s = try kind.make()
        for i in 1...5 { try s.record(PlatformEvent(kind: .alert, detail: "e\(i)")) }
        #expect(try s.events(limit: 2).map(\.detail) == ["e4", "e5"], "the last ones, oldest first")
        let seen = try #require(try s.events(limit: 2).first?.id)
        #expect(try s.events(after: seen, limit: 100).map(\.detail) == ["e5"])
        #expect(try s.events(after: 0, limit: 2).map(\.detail) == ["e1", "e2"])
        let first = try #require(try s.declare(record(), event: detection()))
        try s.forgetPlatform(actor: "t", cause: "destroy")
        let second = try #require(try s.declare(record(), event: detection()))
        #expect(second.id! > first.id!, "a forgotten move's id is not given again")
        let ids = try s.events(limit: 100).compactMap(\.id)
        #expect(ids == ids.sorted() && Set(ids).count == ids.count)
    }
}
