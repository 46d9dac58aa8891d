import Foundation
import StateStore
import Testing

struct FailoverJournalTests {
    func store() throws -> StateStore {
        try StateStore(path: FileManager.default.temporaryDirectory.appendingPathComponent("vp-journal-\(UUID().uuidString).sqlite").path)
    }

    func record(_ person: String = "web", _ source: String = "p1") -> FailoverRecord {
        FailoverRecord(personality: person, source: source, sourceHost: "local", planned: false, reason: "test", detectedAt: Date())
    }

    @Test func aSecondDetectionOfTheSameFailureIsNotASecondMove() throws {
        let s = try store()
        let first = try #require(try s.declare(record(), event: PlatformEvent(kind: .detection, detail: "libvirt")))
        #expect(first.id != nil)
        #expect(try s.declare(record(), event: PlatformEvent(kind: .detection, detail: "heartbeat")) == nil)
        #expect(try s.unfinishedFailovers().count == 1)
        #expect(try s.processorStates()["p1"]?.state == .failed)
        // Another processor's failure is a move of its own.
        #expect(try s.declare(record("db", "p2"), event: PlatformEvent(kind: .detection, detail: "x")) != nil)
    }

    @Test func aMoveRebindsThePersonalityWhenItsDevicesLandAndIsResumableFromTheStore() throws {
        let s = try store()
        try s.remember(bindings: ["web": "p1"], newAllocations: [], actor: "t", cause: "t")
        var r = try #require(try s.declare(record(), event: PlatformEvent(kind: .detection, detail: "x")))
        r.target = "p3"; r.targetHost = "local"
        try s.advance(r, to: .standbyChosen, event: nil)
        #expect(try s.bindings() == ["web": "p1"])
        try s.advance(try #require(try s.failover(id: r.id!)), to: .attached, event: nil, rebind: true)
        #expect(try s.bindings() == ["web": "p3"])
        // A fresh reader (a restarted serve) sees exactly where the move stands.
        let again = try StateStore(path: s.path)
        #expect(try again.unfinishedFailovers().map(\.step) == [.attached])
        try again.advance(try #require(try again.failover(id: r.id!)), to: .done, event: nil)
        #expect(try again.unfinishedFailovers().isEmpty)
    }

    @Test func anAdministratorVouchesForAFenceThatCouldNotBeConfirmed() throws {
        let s = try store()
        let r = try #require(try s.declare(record(), event: PlatformEvent(kind: .detection, detail: "x")))
        try s.advance(r, to: .awaitingFence, event: nil)
        #expect(try s.confirmFence(processor: "p1", by: "alice@host").map(\.personality) == ["web"])
        #expect(try s.failover(id: r.id!)?.fenceConfirmedBy == "alice@host")
    }

    @Test func onlyOneServiceHoldsThePlatform() throws {
        let s = try store()
        let lock = try s.acquireServiceLock()
        #expect(throws: StateStoreError.self) { try s.acquireServiceLock() }
        withExtendedLifetime(lock) {}
    }
}
