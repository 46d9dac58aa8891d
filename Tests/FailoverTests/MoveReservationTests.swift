@testable import Failover
import Foundation
import StateStore
import Testing

/// A move's source and target belong to it until it ends; `--to` is checked like any standby, in
/// the declaration's transaction; rebinding never takes another personality's processor.
struct MoveReservationTests {
    @Test func aPlannedMovesSourceIsNotChosenAsAStandbyByAnotherFailure() async throws {
        let t = try EnginePlatform()
        // web moves (planned) p1 → p3 and is attached there: p1 is off and carries nothing, but
        // its definition still has web's NICs until the move is done.
        var planned = try #require(try t.declare("web", off: t.p(1), planned: true))
        planned.target = t.p(3); planned.targetHost = "a"
        try t.store.advance(planned, to: .attached, event: nil, rebind: true)
        #expect(try t.store.bindings()["web"] == t.p(3))

        let db = try #require(try t.declare("db", off: t.p(2)))
        let engine = try t.engine([t.p(1): .off, t.p(3): .running, t.p(4): .off])
        #expect(try await engine.advance(try #require(db.id)) == .advanced(.standbyChosen))
        #expect(try t.store.failover(id: db.id!)?.target == t.p(4), "p1 is the source of web's unfinished move: reserved")
    }

    @Test func failoverToAProcessorThatIsNotFreeIsRefusedWithNothingRecorded() throws {
        let t = try EnginePlatform()
        #expect(throws: MoveRefused(processor: t.p(2), cause: "it carries personality 'db'")) {
            try t.declare("web", off: t.p(1), planned: true, to: t.p(2))
        }
        try t.store.markFailed(t.p(4), reason: "test")
        #expect(throws: MoveRefused.self, "a failed processor") { try t.declare("web", off: t.p(1), planned: true, to: t.p(4)) }
        // p3 is promised to db's move: web cannot be sent there.
        var db = try #require(try t.declare("db", off: t.p(2)))
        db.target = t.p(3); db.targetHost = "a"
        try t.store.advance(db, to: .standbyChosen, event: nil)
        #expect(throws: MoveRefused.self, "the target of another move") { try t.declare("web", off: t.p(1), planned: true, to: t.p(3)) }
        #expect(try t.store.unfinishedFailovers().map(\.personality) == ["db"], "nothing recorded for web")
    }

    @Test func aChosenTargetIsCheckedAgainWhenSaved() throws {
        let t = try EnginePlatform()
        var web = try #require(try t.declare("web", off: t.p(1)))
        var db = try #require(try t.declare("db", off: t.p(2)))
        web.target = t.p(3); web.targetHost = "a"
        try t.store.advance(web, to: .standbyChosen, event: nil)
        db.target = t.p(3); db.targetHost = "a"
        #expect(throws: MoveRefused.self) { try t.store.advance(db, to: .standbyChosen, event: nil) }
        #expect(try t.store.failover(id: db.id!)?.step == .declared)
    }

    @Test func rebindingNeverDropsAnotherPersonalitysBinding() throws {
        let t = try EnginePlatform()
        var web = try #require(try t.declare("web", off: t.p(1)))
        web.target = t.p(2); web.targetHost = "a" // db's processor
        #expect(throws: MoveRefused.self) { try t.store.advance(web, to: .attached, event: nil, rebind: true) }
        #expect(try t.store.bindings() == ["web": t.p(1), "db": t.p(2)])
        #expect(try t.store.failover(id: web.id!)?.step == .declared, "nothing saved")
    }
}
