@testable import Failover
import Foundation
import StateStore
import Testing

/// A move's source and target belong to it until it ends, on either store. (How the store checks
/// `--to`, a chosen standby and a rebinding in one transaction: Tests/StoreTests, the contract.)
struct MoveReservationTests {
    @Test(arguments: EngineStore.allCases)
    func aPlannedMovesSourceIsNotChosenAsAStandbyByAnotherFailure(_ store: EngineStore) async throws {
        let t = try EnginePlatform(store: store)
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
}
