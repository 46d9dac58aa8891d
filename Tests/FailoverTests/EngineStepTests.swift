@testable import Failover
import Foundation
import Hosts
import HostsTesting
import StateStore
import Testing

/// The failover engine through its seams (FakeHost, the in-memory store): each step does what
/// it says to libvirt and nothing more; the platform's invariants hold after every call.
struct EngineStepTests {
    @Test func everyStepOfAMoveDoesItsPartAndNoMore() async throws {
        let t = try FakeHostPlatform()
        t.a.crash("p1")
        let id = try t.declare()
        let engine = try t.engine()
        let web = t.plugged("web")

        #expect(try await engine.advance(id) == .advanced(.standbyChosen))
        #expect(try t.store.failover(id: id)?.target == "p3", "the hot spare on the same host")
        #expect(t.a.changes.isEmpty, "choosing touches nothing")

        #expect(try await engine.advance(id) == .advanced(.fenced))
        #expect(t.a.changes.map(\.description) == ["fence p1"])
        t.a.clearCalls()

        #expect(try await engine.advance(id) == .advanced(.attached))
        #expect(t.a.changes.map(\.description) == web.map { "attach p3 \($0) [config,live]" } + ["setMetadata p3 personality=web"])
        #expect(t.a.domain("p3")?.live == t.a.domain("p1")?.config, "p3 holds exactly what p1 was defined with")
        #expect(try t.store.bindings()["web"] == "p3", "rebound in the same step")
        t.a.clearCalls()

        #expect(try await engine.advance(id) == .advanced(.announced))
        #expect(t.a.changes.map(\.description) == ["announce p3"])
        t.a.clearCalls()

        #expect(try await engine.advance(id) == .advanced(.answered))
        #expect(t.a.changes.isEmpty)

        #expect(try await engine.advance(id) == .finished)
        #expect(t.a.changes.map(\.description) == web.map { "detach p1 \($0) [config]" } + ["setMetadata p1 personality=none"])
        #expect(t.a.domain("p1")?.config == DomainDevices(), "p1 can never start with web's MACs or disk")
        #expect(try t.step(id) == .done)
        #expect(t.b.changes.isEmpty, "host b was not touched")
        #expect(t.fleet.violations.isEmpty)
    }

    @Test func aColdStandbyIsGivenTheDevicesInItsDefinitionAndStarted() async throws {
        let t = try FakeHostPlatform()
        t.a.crash("p1")
        let id = try t.declare()
        #expect(try await t.engine(standbys: ["p4": .off]).run(id) == .finished)
        let web = t.plugged("web")
        #expect(t.b.changes.map(\.description) == web.map { "attach p4 \($0) [config]" }
            + ["setMetadata p4 personality=web", "start p4", "announce p4"])
        #expect(t.b.domain("p4")?.running == true)
        #expect(t.b.domain("p4")?.live == DomainDevices(nics: t.nics("web"), disks: t.disks("web")))
        #expect(t.fleet.violations.isEmpty)
    }

    /// Where a move can fail: the host operation of each step, on the domain it concerns.
    static let failures: [(FakeHost.Operation, String, FailoverStep)] = [
        (.attach, "p3", .fenced), (.setMetadata, "p3", .fenced), (.announce, "p3", .attached),
        (.detach, "p1", .answered), (.setMetadata, "p1", .answered),
    ]

    @Test func aStepThatFailsChangesNoStepAndIsRetried() async throws {
        for (operation, domain, before) in Self.failures { try await failAndRetry(operation, domain, before) }
    }

    func failAndRetry(_ operation: FakeHost.Operation, _ domain: String, _ before: FailoverStep) async throws {
        let t = try FakeHostPlatform()
        t.a.crash("p1")
        let id = try t.declare()
        let engine = try t.engine()
        t.a.inject(.error, into: operation, domain: domain)
        var failed = false
        for _ in 0..<12 where try t.step(id) != .done {
            do { _ = try await engine.advance(id) } catch {
                failed = true
                #expect("\(error)".contains("injected failure of \(operation.rawValue) \(domain)"))
                #expect(try t.step(id) == before, "the journal stays at the step before the one that failed")
            }
        }
        #expect(failed, "the fault was hit")
        #expect(try t.step(id) == .done, "the retry carried the move to its end")
        for device in t.plugged("web") { #expect(t.attaches(of: device, to: "p3") == 1, "\(device) attached once") }
        #expect(t.a.domain("p3")?.personality == "web" && t.a.domain("p1")?.config == DomainDevices())
        #expect(t.fleet.violations.isEmpty)
    }

    @Test func aFenceThatCannotBeConfirmedWaitsWithAnAlertAndTheRetryFencesAgain() async throws {
        let t = try FakeHostPlatform()
        let id = try t.declare() // p1 still runs: a hang the heartbeats saw
        let engine = try t.engine()
        t.a.inject(.error, into: .fence, domain: "p1")
        #expect(try await engine.advance(id) == .advanced(.standbyChosen))
        guard case .waiting = try await engine.advance(id) else { Issue.record("the fence did not wait"); return }
        #expect(try t.step(id) == .awaitingFence)
        #expect(try t.store.events(limit: 20).contains { $0.kind == .alert && $0.detail.contains("cannot confirm p1 is off") })
        #expect(t.a.calls(.attach).isEmpty, "nothing is given away while p1 may run")
        #expect(try await engine.run(id) == .finished)
        #expect(t.a.calls(.fence).count == 2)
        #expect(t.fleet.violations.isEmpty)
    }

    /// A step's effect done, the controller killed before it journals the step: a fresh engine
    /// (a restarted `vpctl serve`) carries on from the journal and does nothing twice.
    @Test func aKillAfterAnyStepsEffectIsResumedByAFreshEngine() async throws {
        for operation in [FakeHost.Operation.fence, .attach, .setMetadata, .start, .announce, .detach] {
            try await killAndResume(operation)
        }
    }

    func killAndResume(_ operation: FakeHost.Operation) async throws {
        let t = try FakeHostPlatform()
        t.a.crash("p1")
        let id = try t.declare()
        // The cold spare on b also needs a start; the others run on a.
        let standbys: [String: StandbyChooser.Readiness] = operation == .start ? ["p4": .off] : ["p3": .running, "p4": .off]
        let host = operation == .start ? t.b : t.a
        host.inject(.hangAfter, into: operation)
        let first = try t.engine(standbys: standbys)
        let killed = Task { try await first.run(id) }
        #expect(await host.waitUntilHanging(), "the engine reached \(operation.rawValue)")
        let journaled = try t.step(id)
        killed.cancel()
        _ = await killed.result
        #expect(try t.step(id) == journaled, "the killed engine wrote nothing more")

        #expect(try await t.engine(standbys: standbys).run(id) == .finished)
        let target = operation == .start ? "p4" : "p3"
        let targetHost = operation == .start ? t.b : t.a
        for device in t.plugged("web") { #expect(t.attaches(of: device, to: target, on: targetHost) == 1, "\(device) attached once") }
        #expect(targetHost.calls(.start).count <= 1)
        #expect(targetHost.domain(target)?.running == true && targetHost.domain(target)?.personality == "web")
        #expect(t.a.domain("p1")?.config == DomainDevices())
        #expect(try t.store.bindings()["web"] == target)
        #expect(t.fleet.violations.isEmpty)
    }

    @Test func twoEnginesRacingOneMovePerformEachStepOnce() async throws {
        for _ in 0..<5 {
            let t = try FakeHostPlatform()
            t.a.crash("p1")
            let id = try t.declare()
            let (one, two) = (try t.engine(), try t.engine())
            async let a = one.run(id)
            async let b = two.run(id)
            #expect(try await [a, b] == [.finished, .finished])
            let web = t.plugged("web")
            #expect(t.a.changes.map(\.description) == ["fence p1"] + web.map { "attach p3 \($0) [config,live]" }
                + ["setMetadata p3 personality=web", "announce p3"] + web.map { "detach p1 \($0) [config]" }
                + ["setMetadata p1 personality=none"])
            #expect(try t.store.events(limit: 50).filter { $0.kind == .step }.count == 6, "six steps journaled, once each")
            #expect(t.fleet.violations.isEmpty)
        }
    }
}
