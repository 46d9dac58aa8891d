@testable import Failover
import Foundation
import Libvirt
import LibvirtXML
import StateStore
import SystemSupport
import TestSupport
import Testing

/// Moves that end: a standby still booting is not chosen, a target that dies or an abort sends
/// the move back to choosing, an abort before the fence leaves the personality where it was.
struct StuckMoveTests {
    @Test func aHotStandbyWhoseAgentIsNotReadyIsNotChosen() async throws {
        let t = try EnginePlatform(hot: true)
        let web = try #require(try t.declare("web", off: t.p(1)))
        let id = try #require(web.id)
        let booting = try t.engine([t.p(3): .booting, t.p(4): .booting])
        guard case .waiting(let why) = try await booting.advance(id) else { Issue.record("not waiting"); return }
        #expect(why.contains("still booting"))
        #expect(try t.store.failover(id: id)?.step == .declared, "waits for it, not down")

        let oneReady = try t.engine([t.p(3): .booting, t.p(4): .running])
        #expect(try await oneReady.advance(id) == .advanced(.standbyChosen))
        #expect(try t.store.failover(id: id)?.target == t.p(4))
    }

    @Test func onlyTheLastBootsConsoleSaysWhetherTheAgentIsReady() {
        let boot = "init: loading 26 kernel modules\ninit: starting /bin/vp-agent as p3\n"
        #expect(LibvirtStandbyProbe.saysReady(boot + "vp-agent: ready\n"))
        #expect(!LibvirtStandbyProbe.saysReady(boot))
        #expect(!LibvirtStandbyProbe.saysReady(boot + "vp-agent: ready\n" + boot), "an appended log: the earlier boot's ready is not this one's")
        #expect(!LibvirtStandbyProbe.saysReady(""))
    }

    @Test func aTargetThatDiesAfterTheAttachIsGivenUpAndAnotherIsChosen() async throws {
        let t = try EnginePlatform()
        var web = try #require(try t.declare("web", off: t.p(1)))
        web.target = t.p(3); web.targetHost = "a"
        try t.store.advance(web, to: .standbyChosen, event: nil)
        try t.store.advance(try #require(try t.store.failover(id: web.id!)), to: .fenced, event: nil)
        try t.store.advance(try #require(try t.store.failover(id: web.id!)), to: .announced, event: nil, rebind: true)
        // p3 is not defined on the test driver: it is gone.
        let engine = try t.engine([t.p(4): .off])
        #expect(try await engine.advance(web.id!) == .advanced(.declared))
        let record = try #require(try t.store.failover(id: web.id!))
        #expect(record.target == nil && record.step == .declared)
        #expect(try t.store.processorStates()[t.p(3)]?.state == .failed)
        #expect(try t.store.bindings()["web"] == t.p(1), "web is bound to no processor it is not on")
        #expect(try t.store.events(limit: 10).contains { $0.kind == .detection && $0.detail.contains("\(t.p(3)), taking web, died") })
        #expect(try await engine.advance(web.id!) == .advanced(.standbyChosen))
        #expect(try t.store.failover(id: web.id!)?.target == t.p(4))
    }

    @Test func aTargetThatStaysSilentIsReplugedOnceThenGivenUpForAnother() async throws {
        // web's address is on loopback, where no agent answers: its target stays silent.
        let t = try EnginePlatform(subnet: "127.0.0", confirmTimeoutSeconds: 1)
        let conn = try Connection(uri: "test:///default")
        let p3 = try conn.defineDomain(xml: DomainSpec(name: t.p(3), type: "test", memoryMiB: 64, kernel: "/boot/vmlinuz",
                                                       initrd: "/boot/initrd", cmdline: "").render())
        defer { try? p3.destroy(); try? p3.undefine() }
        try p3.start()
        var web = try #require(try t.declare("web", off: t.p(1)))
        web.target = t.p(3); web.targetHost = "a"
        try t.store.advance(web, to: .standbyChosen, event: nil)
        try t.store.advance(try #require(try t.store.failover(id: web.id!)), to: .fenced, event: nil)
        try t.store.advance(try #require(try t.store.failover(id: web.id!)), to: .announced, event: nil, rebind: true)
        let engine = try t.engine([t.p(4): .off])

        var progress: [FailoverEngine.Progress] = []
        // Generous: libvirt's test driver is one lock for the whole test process, shared with every other test.
        let deadline = ContinuousClock.now + .seconds(60)
        while try t.store.failover(id: web.id!)?.step == .announced, ContinuousClock.now < deadline {
            let p = try await engine.advance(web.id!)
            if progress.last != p { progress.append(p) }
            try await Task.sleep(for: .milliseconds(50))
        }
        let record = try #require(try t.store.failover(id: web.id!))
        #expect(record.step == .declared && record.target == nil, "given up: \(progress)")
        let events = try t.store.events(limit: 50)
        #expect(events.filter { $0.detail.contains("does not answer on 127.0.0.10 after 0.5 s") }.count == 1, "re-plugged once")
        #expect(events.contains { $0.detail.contains("\(t.p(3)) did not answer on 127.0.0.10 within 1 s") })
        #expect(try t.store.processorStates()[t.p(3)]?.state == .failed)
        #expect(try !p3.isActive(), "the given-up target is fenced")
        #expect(try await engine.advance(web.id!) == .advanced(.standbyChosen))
        #expect(try t.store.failover(id: web.id!)?.target == t.p(4))
    }

    @Test func anAbortBeforeTheFenceLeavesThePersonalityWhereItWas() async throws {
        // "test" is the test driver's own running domain: a processor declared failed that runs.
        let t = try EnginePlatform(processors: ["test", "fe-abort-p2", "fe-abort-p3", "fe-abort-p4"])
        let web = try #require(try t.declare("web", off: "test"))
        let engine = try t.engine([:])
        #expect(try await engine.advance(web.id!) == .waiting("no standby for web"))
        #expect(try t.store.failover(id: web.id!)?.step == .down)
        #expect(try t.store.processorStates()["test"]?.state == .failed)

        let after = try await Administration(engine: engine).abort("web", who: "alice") { _ in }
        #expect(after.step == .aborted)
        #expect(try t.store.unfinishedFailovers().isEmpty, "apply and repair are no longer refused")
        #expect(try t.store.bindings()["web"] == "test")
        #expect(try t.store.processorStates()["test"] == nil, "it runs: the declaration was wrong")
        #expect(kindThrown { try t.store.requestAbort(personality: "web", by: "alice") } == .conflict, "nothing left to abort")
    }

    @Test func anAbortAfterTheFenceGivesTheTargetUpAndGoesOn() async throws {
        let t = try EnginePlatform()
        var web = try #require(try t.declare("web", off: t.p(1)))
        web.target = t.p(3); web.targetHost = "a"
        try t.store.advance(web, to: .standbyChosen, event: nil)
        try t.store.advance(try #require(try t.store.failover(id: web.id!)), to: .fenced, event: nil)
        let engine = try t.engine([t.p(3): .off, t.p(4): .off])
        let after = try await Administration(engine: engine).abort("web", who: "alice") { _ in }
        #expect(after.step == .declared && after.target == nil && after.abortRequestedBy == nil)
        #expect(after.fencedAt != nil, "the source stays fenced: web cannot go back to it")
        #expect(try t.store.processorStates()[t.p(3)] == nil, "p3 was given nothing: released, not failed")
    }
}
