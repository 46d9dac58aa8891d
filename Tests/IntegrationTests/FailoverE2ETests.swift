import AgentClient
import AgentProtocol
import Failover
import Foundation
import Hosts
import Libvirt
import LibvirtXML
import Logging
import PlatformEngine
import PlatformHarness
import PlatformRender
import Reconciler
import StateStore
import SystemSupport
import Testing
import TestSupport

/// A small platform of its own per test: web (front + back + a disk) on p1, db (back + a disk) on
/// p2, p3 a hot standby, p4 a cold one. Failover is driven by a real `FailoverService` against
/// real guests.
final class FailoverPlatform: @unchecked Sendable {
    let platform: OwnPlatform
    let conn: Connection
    var name: String { platform.name }
    var engine: PlatformEngine { platform.engine }
    var failover: FailoverEngine { platform.failover }
    var store: any PlatformStore { engine.store }

    /// `volumeFormat`: the format of both personalities' volumes (raw or qcow2).
    init(name: String, subnet: Int, volumeFormat: String = "raw") throws {
        let definition = DefinitionYAML(platform: name, processors: (1...4).map { "\(name)-p\($0)" })
        platform = try OwnPlatform(name: name, definition: definition.yaml("""
        \(DefinitionYAML.frontAndBack(net: subnet))
        \(definition.storage(volumes: "[{ name: web-data, capacity: 16MiB, format: \(volumeFormat) }, "
                                   + "{ name: db-data, capacity: 16MiB, format: \(volumeFormat) }]"))
        personalities:
          - name: web
            nics: [{ vlan: front }, { vlan: back }]
            disks: [{ target: vdb, volume: \(definition.poolName)/web-data }]
          - name: db
            nics: [{ vlan: back }]
            disks: [{ target: vdb, volume: \(definition.poolName)/db-data }]
        standby: { mode: hot, count: 1, preferSameHost: true }
        failover:
          classOfService: [back, front]
        """))
        conn = try #require(platform.engine.connections["local"])
    }

    func p(_ n: Int) -> String { "\(name)-p\(n)" }

    /// Applies, waits until both personalities answer on every address, writes a marker on each
    /// disk, and waits until the hot standby's agent is ready (a standby still booting is not chosen).
    func bringUp() async throws {
        try await engine.apply(cause: "failover e2e")
        for person in ["web", "db"] {
            for ip in try addresses(person) { try await HeartbeatProbe.waitForReply(ip, within: .seconds(90)) }
            let disk = try await agent(person).writeMarker(disk: "vdb", text: "\(person) before the failure")
            #expect(disk.marker == "\(person) before the failure")
        }
        try await waitUntilReady(p(3), within: .seconds(90))
    }

    /// Until the processor's console (written afresh at each boot) shows its agent ready.
    func waitUntilReady(_ processor: String, within limit: Duration) async throws {
        try await Console.waitUntilReady(platform: name, processor: processor, within: limit)
    }

    /// Until serve (this test's or a child) watches `processors`.
    func waitUntilWatching(_ processors: [String], within limit: Duration = .seconds(20)) async throws {
        try await platform.waitUntilWatching(processors, within: limit)
    }

    /// Starts `vpctl serve` for this platform in a process of its own, ended by `destroy`.
    func serveProcess(_ extra: [String]) throws -> ServeChild { try platform.startServe(extra) }

    func addresses(_ person: String) throws -> [String] {
        let view = try PlatformView(definition: engine.definition, store: store)
        return view.addresses(of: person).map(\.ip)
    }

    func macs(_ person: String) throws -> [String] {
        let view = try PlatformView(definition: engine.definition, store: store)
        return try #require(view.devices[person]).nics.map(\.spec.mac)
    }

    func agent(_ person: String) throws -> AgentHTTPClient {
        // The back address is every personality's (both are in VLAN back).
        let view = try PlatformView(definition: engine.definition, store: store)
        return AgentHTTPClient(host: try #require(view.devices[person]?.nics.first { $0.vlan == "back" }).ip)
    }

    func processor(of person: String) throws -> String? { try store.bindings()[person] }

    func startService(onDeclared: @escaping @Sendable (FailoverRecord) -> Void = { _ in }) {
        var logger = Logger(label: "e2e.serve")
        logger.logLevel = .notice
        platform.startService(logger: logger, onDeclared: onDeclared)
    }

    func qemuPid(_ processor: String) throws -> pid_t {
        try #require(QEMUProcess.pid(of: processor), "QEMU of \(processor) runs")
    }

    /// Waits until a move of `person` reaches `step` (done by default).
    @discardableResult
    func waitForMove(of person: String, to step: FailoverStep = .done, within limit: Duration = .seconds(90)) async throws -> FailoverRecord {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if let r = try store.failovers().last(where: { $0.personality == person }), r.step == step { return r }
            try await Task.sleep(for: .milliseconds(50))
        }
        let last = try store.failovers().last { $0.personality == person }
        throw PlatformError(.internal, nil, "move of \(person) did not reach \(step.rawValue) in \(limit); last: \(String(describing: last?.step)); events:\n\(try eventLog())")
    }

    func eventLog() throws -> String {
        try store.events(limit: 30).map { "\($0.time.formatted(.iso8601.time(includingFractionalSeconds: true))) \($0.kind.rawValue) \($0.detail)" }
            .joined(separator: "\n")
    }

    /// Running domains (any, on this host) whose live definition carries `mac`.
    func runningCarriers(of mac: String) throws -> [String] {
        try conn.domains().filter { (try? $0.isActive()) == true }.filter { dom in
            (try DomainFacts(xml: try dom.xml())).nics.contains { $0.mac == mac.lowercased() }
        }.map(\.name)
    }

    /// The failed processor keeps nothing of the personality, in its definition or live.
    func expectClean(_ processor: String, of person: String) throws {
        let dom = try conn.domain(named: processor)
        #expect(try !dom.isActive(), "\(processor) is fenced (off)")
        let facts = try DomainFacts(xml: try dom.xml(inactive: true))
        let macs = Set(try macs(person).map { $0.lowercased() })
        #expect(facts.nics.filter { macs.contains($0.mac) }.isEmpty, "\(processor) has no NIC of \(person)")
        #expect(facts.disks.filter { $0.source.hasSuffix("/\(person)-data") }.isEmpty, "\(processor) has no disk of \(person)")
        #expect(try store.processorStates()[processor]?.state == .failed)
    }

    /// What a user checks after a move: same MACs and addresses, the marker on the disk, VLAN
    /// peers reach it, one running carrier per MAC.
    func expectServed(_ person: String, on processor: String, peer: String) async throws {
        #expect(try self.processor(of: person) == processor)
        let agent = try self.agent(person)
        let report = try await agent.waitForReport(until: .now + .seconds(60)) { r in
            r.disk("vdb")?.marker != nil && r.interfaces.filter { !$0.addresses.isEmpty }.count == (try? self.macs(person).count) ?? 0
        }
        #expect(report.hostname == processor, "\(person)'s addresses are answered by \(processor)")
        #expect(Set(report.macs) == Set(try macs(person)), "\(processor) carries \(person)'s virtual MACs")
        #expect(report.disk("vdb")?.marker == "\(person) before the failure", "the disk keeps what was written before the failure")
        for mac in try macs(person) { #expect(try runningCarriers(of: mac) == [processor], "one running carrier of \(mac)") }
        let back = try #require(try PlatformView(definition: engine.definition, store: store).devices[person]?.nics.first { $0.vlan == "back" }).ip
        #expect(try await self.agent(peer).probe(back), "\(peer) reaches \(person) on VLAN back")
    }

    /// Runs `scenario` on a fresh platform and removes the platform afterwards, pass or fail.
    static func with(name: String, subnet: Int, volumeFormat: String = "raw",
                     _ scenario: (FailoverPlatform) async throws -> Void) async throws {
        let platform = try FailoverPlatform(name: name, subnet: subnet, volumeFormat: volumeFormat)
        do { try await scenario(platform) } catch { await platform.destroy(); throw error }
        await platform.destroy()
    }

    func destroy() async { await platform.tearDown(cause: "failover e2e cleanup") }
}

extension RealDaemon { @Suite struct FailoverE2ETests {
    /// (a) SIGKILL of two active processors at once: web goes to the hot standby, db to the cold
    /// one. Then the last carrier dies with no standby left (web is down, nothing is touched), and
    /// a repair brings a processor back for web to move to.
    @Test func sigkillOfTwoProcessorsMovesBothThenNoStandbyThenRepair() async throws {
        try await FailoverPlatform.with(name: "foa", subnet: 61, sigkillScenario)
    }

    func sigkillScenario(_ t: FailoverPlatform) async throws {
        try await t.bringUp()
        t.startService()
        try await t.waitUntilWatching([t.p(1), t.p(2)])
        kill(try t.qemuPid(t.p(1)), SIGKILL)
        kill(try t.qemuPid(t.p(2)), SIGKILL)

        let web = try await t.waitForMove(of: "web")
        let db = try await t.waitForMove(of: "db")
        // The first declared takes the hot standby (same host, hot before cold), the other the cold one.
        #expect(Set([web.target, db.target]) == [t.p(3), t.p(4)], "one move to the hot standby, one to the cold")
        let webOn = try #require(web.target), dbOn = try #require(db.target)
        try await t.expectServed("web", on: webOn, peer: "db")
        try await t.expectServed("db", on: dbOn, peer: "web")
        try t.expectClean(t.p(1), of: "web")
        try t.expectClean(t.p(2), of: "db")

        // No standby left: web's new carrier dies too. web is down, nothing is moved or stopped.
        let dbBefore = try DomainFacts(xml: try t.conn.domain(named: dbOn).xml())
        kill(try t.qemuPid(webOn), SIGKILL)
        try await t.waitForMove(of: "web", to: .down, within: .seconds(10))
        try await Task.sleep(for: .seconds(2))
        let log = try t.eventLog()
        #expect(try t.store.failovers().last { $0.personality == "web" }?.step == .down, "\(log)")
        #expect(try t.store.events(limit: 50).contains { $0.kind == .alert && $0.detail.contains("web is DOWN") })
        let left = try DomainFacts(xml: try t.conn.domain(named: webOn).xml(inactive: true))
        #expect(Set(left.nics.map(\.mac)) == Set(try t.macs("web").map { $0.lowercased() }), "web's NICs stay where they were")
        #expect(try DomainFacts(xml: try t.conn.domain(named: dbOn).xml()) == dbBefore, "db's processor is untouched")
        #expect(try t.processor(of: "db") == dbOn)
        #expect(try t.store.unfinishedFailovers().map(\.personality) == ["web"], "db is not moved: \(log)")

        // A repaired processor rejoins the pool clean; web's move resumes onto it by itself.
        let repaired = try await Administration(engine: t.failover).repair(t.p(1), who: "e2e")
        #expect(repaired.contains("hot standby"))
        try await t.waitForMove(of: "web", within: .seconds(90))
        try await t.expectServed("web", on: t.p(1), peer: "db")
        try t.expectClean(webOn, of: "web")
    }

    /// (e) A hot standby still booting is not chosen: NICs hot-plugged into a guest that is not
    /// ready can be lost, and the move would wait for answers that never come. The cold one takes it.
    @Test func aHotStandbyStillBootingIsNotChosen() async throws {
        try await FailoverPlatform.with(name: "fea", subnet: 105, bootingStandbyScenario)
    }

    func bootingStandbyScenario(_ t: FailoverPlatform) async throws {
        try await t.bringUp()
        t.startService()
        try await t.waitUntilWatching([t.p(1), t.p(2)])
        let p3 = try t.conn.domain(named: t.p(3))
        try p3.destroy()
        try p3.start() // booting again; its console starts afresh
        kill(try t.qemuPid(t.p(1)), SIGKILL)
        let move = try await t.waitForMove(of: "web", within: .seconds(90))
        let log = try t.eventLog()
        #expect(move.target == t.p(4), "the cold standby, not the booting hot one: \(log)")
        try await t.expectServed("web", on: t.p(4), peer: "db")
        try t.expectClean(t.p(1), of: "web")
    }

    /// (c) One adapter's link going down is an adapter event, not a failover; it comes back.
    @Test func adapterDownIsNotAFailure() async throws {
        try await FailoverPlatform.with(name: "foc", subnet: 64, adapterScenario)
    }

    func adapterScenario(_ t: FailoverPlatform) async throws {
        try await t.bringUp()
        t.startService()
        try await t.waitUntilWatching([t.p(1), t.p(2)])
        let p1 = try t.conn.domain(named: t.p(1))
        let network = "\(t.name)-front"
        let frontMAC = try #require(try t.macs("web").first)
        let frontIP = try #require(try t.addresses("web").last) // class of service: back first, front second
        try p1.updateDevice(xml: InterfaceSpec(network: network, mac: frontMAC, linkUp: false).render(), .live)
        try await waitForEvent(t, .adapterUnreachable, frontIP, within: .seconds(10))
        try await Task.sleep(for: .seconds(2))
        let log = try t.eventLog()
        #expect(try t.store.failovers().isEmpty, "an adapter failure is not a processor failure: \(log)")
        #expect(try t.store.processorStates()[t.p(1)] == nil)
        try p1.updateDevice(xml: InterfaceSpec(network: network, mac: frontMAC, linkUp: true).render(), .live)
        try await waitForEvent(t, .adapterReachable, frontIP, within: .seconds(10))
        #expect(try t.store.failovers().isEmpty)
    }

    func waitForEvent(_ t: FailoverPlatform, _ kind: PlatformEvent.Kind, _ ip: String, within limit: Duration) async throws {
        let deadline = ContinuousClock.now + limit
        while try !t.store.events(limit: 50).contains(where: { $0.kind == kind && $0.detail.contains(ip) }) {
            try #require(ContinuousClock.now < deadline, "\(kind.rawValue) for \(ip) within \(limit)")
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// (b) SIGSTOP, a hang libvirt does not report, is caught by the heartbeats.
    @Test func aHungProcessorIsDeclaredByHeartbeatsAndReplaced() async throws {
        try await FailoverPlatform.with(name: "fob", subnet: 62, hangScenario)
    }

    func hangScenario(_ t: FailoverPlatform) async throws {
        try await t.bringUp()
        t.startService()
        try await t.waitUntilWatching([t.p(1), t.p(2)])
        let stoppedAt = Date()
        kill(try t.qemuPid(t.p(1)), SIGSTOP)
        let move = try await t.waitForMove(of: "web")
        #expect(move.reason.hasPrefix("heartbeat"), "declared by the heartbeats: \(move.reason)")
        #expect(move.declaredAt.timeIntervalSince(stoppedAt) < 2, "declared \(move.declaredAt.timeIntervalSince(stoppedAt)) s after the hang")
        let log = try t.eventLog()
        #expect(move.target == t.p(3), "\(log)")
        try await t.expectServed("web", on: t.p(3), peer: "db")
        try t.expectClean(t.p(1), of: "web")
        #expect(QEMUProcess.pid(of: t.p(1)) == nil, "the hung QEMU was killed (fenced)")
    }

    /// (d) `vpctl serve` killed in the middle of a move: the next one finishes it, attaching nothing twice.
    @Test func serveKilledMidFailoverFinishesOnRestart() async throws {
        try await FailoverPlatform.with(name: "fod", subnet: 63, restartScenario)
    }

    func restartScenario(_ t: FailoverPlatform) async throws {
        try await t.bringUp()
        // Slow motion: 1.5 s after each step, so the kill lands between two steps.
        let first = try t.serveProcess(["--step-delay-ms", "1500"])
        try await t.waitUntilWatching([t.p(1), t.p(2)])
        kill(try t.qemuPid(t.p(1)), SIGKILL)
        try await t.waitForMove(of: "web", to: .attached, within: .seconds(20))
        await first.kill()
        try #require(!first.isRunning, "the first serve is gone")
        #expect(try t.store.failovers().last?.step == .attached, "killed with the move half done")

        let second = try t.serveProcess([])
        try await t.waitForMove(of: "web", within: .seconds(30))
        let live = try DomainFacts(xml: try t.conn.domain(named: t.p(3)).xml())
        let config = try DomainFacts(xml: try t.conn.domain(named: t.p(3)).xml(inactive: true))
        let xml = try t.conn.domain(named: t.p(3)).xml()
        for mac in try t.macs("web") {
            #expect(xml.components(separatedBy: "<mac address='\(mac)'").count - 1 == 1, "\(mac) attached once")
        }
        #expect(live.disks.filter { $0.target == "vdb" }.count == 1 && config.disks.filter { $0.target == "vdb" }.count == 1)
        try await t.expectServed("web", on: t.p(3), peer: "db")

        // A second serve is refused while one runs; SIGTERM stops it cleanly.
        let third = try t.serveProcess([])
        try #require(await third.exited(within: .seconds(30)), "a second serve exits at once")
        #expect(third.process.terminationStatus != 0, "only one serve per platform")
        kill(second.pid, SIGTERM)
        try #require(await second.exited(within: .seconds(30)), "serve stops on SIGTERM")
        #expect(second.process.terminationStatus == 0, "serve exits cleanly on SIGTERM")
    }
}
}
