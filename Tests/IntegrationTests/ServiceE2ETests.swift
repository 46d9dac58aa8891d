import AgentProtocol
import Failover
import Foundation
import Hosts
import LibvirtXML
import Logging
import NFTables
import NetLab
import PlatformEngine
import PlatformHarness
import ServiceControl
import ServiceDataPlane
import StateStore
import Synchronization
import SystemSupport
import Testing
import PlatformRender
import TestSupport

/// A platform of a test's own with service IPs on it, and the client namespace that reaches
/// them: web (TCP) and whoami (UDP) on one service IP, served by w1, w2 (front + back) and w3
/// (front, or front + back). Subnets 10.<net>.1/2 (front/back), service IP 10.<net>.9.1,
/// clients 10.<net>.50.10 upwards.
final class ServicePlatform: @unchecked Sendable {
    let platform: OwnPlatform
    let net: Int
    let clients: ClientNetwork
    private(set) var failover: FailoverEngine?
    var name: String { platform.name }
    var engine: PlatformEngine { platform.engine }
    var store: any PlatformStore { engine.store }
    var vip: String { "10.\(net).9.1" }

    struct Shape {
        /// Processors beyond the three members (hot standbys).
        var standbys = 1
        var w3OnBack = false
        var webHealthCheck: String?
    }

    static func definition(_ name: String, net: Int, _ shape: Shape) -> String {
        DefinitionYAML(platform: name, processors: (1...(3 + shape.standbys)).map { "\(name)-p\($0)" }).yaml("""
        \(DefinitionYAML.frontAndBack(net: net))
        personalities:
          - { name: w1, nics: [{ vlan: front }, { vlan: back }] }
          - { name: w2, nics: [{ vlan: front }, { vlan: back }] }
          - { name: w3, nics: [{ vlan: front }\(shape.w3OnBack ? ", { vlan: back }" : "")] }
        \(shape.standbys > 0 ? "standby: { mode: hot, count: \(shape.standbys) }" : "")
        failover:
          classOfService: [front, back]
        services:
          - { name: web, address: 10.\(net).9.1, port: 80, protocol: tcp, members: [w1, w2, w3]\(shape.webHealthCheck.map { ", healthCheck: \($0)" } ?? "") }
          - { name: whoami, address: 10.\(net).9.1, port: 80, protocol: udp, members: [w1, w2, w3], networkPriority: { back: 2, front: 1 } }
        """)
    }

    /// - Parameter namespace: the client namespace's name (at most 11 characters).
    init(name: String, net: Int, namespace: String, shape: Shape) throws {
        self.net = net
        platform = try OwnPlatform(name: name, definition: Self.definition(name, net: net, shape))
        clients = try ClientNetwork.create(name: namespace, subnet: "10.\(net).50", clients: 48)
    }

    /// Runs `scenario` on a new platform and always cleans up: `serve` stopped, the platform
    /// destroyed, the client namespace removed.
    static func with(name: String, net: Int, namespace: String, shape: Shape = Shape(),
                     _ scenario: (ServicePlatform) async throws -> Void) async throws {
        let t = try ServicePlatform(name: name, net: net, namespace: namespace, shape: shape)
        do { try await scenario(t) } catch { await t.destroy(); throw error }
        await t.destroy()
        #expect(try !DataPlane().hasTable(ServiceRuleset.tableName(platform: name)), "vpctl destroy removes the platform's nftables table")
    }

    func destroy() async {
        await platform.tearDown(cause: "service e2e cleanup")
        clients.remove()
    }

    /// Applies and waits until every member answers and every processor has booted (NICs
    /// hot-plugged into a guest still booting can be lost).
    func bringUp() async throws {
        try await engine.apply(cause: "service e2e")
        let allocations = try store.allocations()
        for person in ["w1", "w2", "w3"] {
            try await HeartbeatProbe.waitForReply(try #require(allocations["\(person)/front"]?.ip), within: .seconds(90))
        }
        for processor in engine.definition.processors.members.map(\.name) { try await waitUntilBooted(processor) }
        failover = try FailoverEngine(definition: engine.definition, store: store,
                                      hosts: PlatformHosts(uris: ["local": "qemu:///system"], connections: engine.connections))
    }

    /// `vpctl serve` for this platform, as a process of its own (as an administrator runs it): its
    /// timing does not share this test process's task pool with the suites running beside it.
    func startServe() async throws {
        let before = try store.events(limit: 1).last?.id ?? 0
        let child = try platform.startServe(["--log-level", "notice"])
        try await child.waitUntilStarted(store: store, after: before, within: .seconds(30))
    }

    /// Until the processor's console shows its agent ready in its last boot (as the standby chooser reads it).
    func waitUntilBooted(_ processor: String) async throws {
        try await Console.waitUntilReady(platform: name, processor: processor, within: .seconds(90))
    }

    /// One request from every client: source → processor that answered.
    func owners() throws -> [String: String] {
        let outcomes = try LoadClient.once(namespace: clients.namespace, sources: clients.clients, target: vip, port: 80)
        #expect(outcomes.allSatisfy { $0.ok }, "\(outcomes.filter { !$0.ok })")
        return Dictionary(uniqueKeysWithValues: outcomes.compactMap { o in o.server.map { (o.source, $0) } })
    }

    func report(_ service: String) throws -> ServiceReport {
        try #require(try engine.serviceStatus().0.first { $0.name == service })
    }

    /// The first event of `kind` since `since` whose detail contains `text`, waited for.
    @discardableResult
    func waitForEvent(_ kind: PlatformEvent.Kind, containing text: String, since: Date, within limit: Duration) async throws -> PlatformEvent {
        let deadline = ContinuousClock.now + limit
        while true {
            if let e = try store.events(limit: 200).first(where: { $0.kind == kind && $0.time >= since && $0.detail.contains(text) }) { return e }
            try #require(ContinuousClock.now < deadline, "a \(kind.rawValue) event with '\(text)' within \(limit): \((try? eventLog(since: since)) ?? "")")
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    func eventLog(since: Date) throws -> String {
        try store.events(limit: 200).filter { $0.time >= since }.map { "\($0.kind.rawValue): \($0.detail)" }.joined(separator: "\n")
    }
}

extension RealDaemon { @Suite struct ServiceE2ETests {
    @Test func requestsSpreadByTheirSourceAndSurviveAProcessorKill() async throws {
        #expect(ClientNetwork.hostForwards(), "the host forwards IPv4 (scripts/bootstrap-host.sh sets it)")
        // See FailoverPlatform: simultaneous guest silences on 2 cores.
        try await ServicePlatform.with(name: "sva", net: 65, namespace: "vpsvc", shape: .init()) { t in
            try await scenario(t)
        }
    }

    /// Issue 10 item 6: one member's NIC on the service VLAN link-down. The processor is not
    /// failed over (its back adapter answers), but its backend address is unreachable: the member
    /// leaves the service's table, its clients are served by the others within a bound after the
    /// adapter is declared unreachable, and it gets exactly its slots back when the link returns.
    /// The product's defaults (no heartbeat override, no health check).
    @Test func aMemberWhoseBackendAdapterIsDownLeavesTheTableAndComesBack() async throws {
        try await ServicePlatform.with(name: "svl", net: 115, namespace: "vpsvl", shape: .init(standbys: 0)) { t in
            try await t.bringUp()
            try await t.startServe()
            let owner = try t.owners()
            let victim = try #require(try t.store.bindings()["w1"], "w1 (front and back) is carried")
            let victimClients = Set(owner.filter { $0.value == victim }.keys)
            #expect(!victimClients.isEmpty && Set(owner.values).count == 3, "every member has clients: \(owner)")
            let slotsBefore = try #require(try t.failover?.services?.installedShares()["web"] ?? nil)
            let allocations = try t.store.allocations()
            let frontIP = try #require(allocations["w1/front"]?.ip), frontMAC = try #require(allocations["w1/front"]?.mac)
            let domain = try #require(t.engine.connections["local"]).domain(named: victim)
            let network = "\(t.name)-front"

            let load = Task.detached { [clients = t.clients, vip = t.vip] in
                try LoadClient.steady(namespace: clients.namespace, sources: clients.clients, target: vip, port: 80, workers: 8,
                                      pause: .milliseconds(20), duration: .seconds(9), timeout: .seconds(1))
            }
            try await Task.sleep(for: .seconds(2))   // load before the fault, for comparison
            let downAt = Date()
            try domain.updateDevice(xml: InterfaceSpec(network: network, mac: frontMAC, linkUp: false).render(), .live)
            let unreachable = try await t.waitForEvent(.adapterUnreachable, containing: frontIP, since: downAt, within: .seconds(10))
            let left = try await t.waitForEvent(.serviceHealth, containing: "backend \(frontIP)", since: downAt, within: .seconds(5))
            let outcomes = try await load.value

            // Within the bound after the declaration, the victim's clients are served again.
            let bound = 1.0
            let declared = unreachable.time.timeIntervalSince1970
            let failedLate = outcomes.filter { !$0.ok && $0.startedAt > declared + bound }
            let victimsAfter = outcomes.filter { victimClients.contains($0.source) && $0.startedAt > declared + bound }
            print("""
                service e2e (adapter down): \(outcomes.count) requests; adapter declared unreachable \(Int(unreachable.time.timeIntervalSince(downAt) * 1000)) ms \
                after link-down, member out \(Int(left.time.timeIntervalSince(unreachable.time) * 1000)) ms after that; \
                \(outcomes.filter { !$0.ok }.count) failed in all, \(failedLate.count) started more than \(bound) s after the declaration
                """)
            #expect(!victimsAfter.isEmpty, "the load reached the victim's clients after the declaration")
            #expect(failedLate.isEmpty, "nothing fails \(bound) s after the adapter is declared unreachable: \(failedLate.prefix(5))")
            #expect(victimsAfter.allSatisfy { $0.ok && $0.server != victim }, "the victim's clients go to the others")
            let strays = outcomes.filter { $0.ok && !victimClients.contains($0.source) && $0.server != owner[$0.source] }
            #expect(strays.isEmpty, "the other members keep their clients: \(strays.prefix(5))")
            #expect(outcomes.filter { !$0.ok }.allSatisfy { victimClients.contains($0.source) }, "only the victim's clients fail")

            // Not a failover; `vpctl service show` says why w1 takes nothing.
            #expect(try t.store.failovers().isEmpty, "an adapter failure is not a processor failure: \((try? t.eventLog(since: downAt)) ?? "")")
            #expect(try t.store.processorStates()[victim] == nil)
            let w1 = try #require(try t.report("web").members.first { $0.personality == "w1" })
            #expect(!w1.healthy && w1.slots == 0 && (w1.reason ?? "").contains("\(frontIP) unreachable"), "\(w1)")

            // The link returns: w1 gets exactly its slots back, and its clients.
            let upAt = Date()
            try domain.updateDevice(xml: InterfaceSpec(network: network, mac: frontMAC, linkUp: true).render(), .live)
            try await t.waitForEvent(.adapterReachable, containing: frontIP, since: upAt, within: .seconds(10))
            try await t.waitForEvent(.serviceTable, containing: "w1 (\(frontIP)) in", since: upAt, within: .seconds(5))
            #expect(try t.failover?.services?.installedShares()["web"] ?? nil == slotsBefore, "the same slots as before the fault")
            #expect(try t.owners() == owner, "every client is back on its processor")
            #expect(try t.store.failovers().isEmpty)
        }
    }

    /// A member whose workload stops answering while its processor answers heartbeats: the
    /// service's health check (HTTP, the product's defaults) takes it out of that service only,
    /// and rise brings it back. The workload is made to stop answering by a table of the test's
    /// own that drops TCP to w2's backend port 80 (heartbeats and the UDP service pass).
    @Test func aMemberWhoseHealthCheckFailsLeavesTheTableWhileItsHeartbeatsAnswer() async throws {
        try await ServicePlatform.with(name: "svw", net: 116, namespace: "vpsvw", shape: .init(standbys: 0, webHealthCheck: "{ type: http }")) { t in
            try await t.bringUp()
            try await t.startServe()
            let owner = try t.owners()
            let victim = try #require(try t.store.bindings()["w2"])
            let backend = try #require(try t.store.allocations()["w2/front"]?.ip)
            let slotsBefore = try #require(try t.failover?.services?.installedShares()["web"] ?? nil)
            let blocker = try PortBlocker(table: "vpsvw_block", address: backend, port: 80)
            defer { blocker.remove() }
            let blockedAt = Date()
            try blocker.install()
            let failing = try await t.waitForEvent(.serviceHealth, containing: "web/w2: health check fails", since: blockedAt, within: .seconds(10))
            try await t.waitForEvent(.serviceTable, containing: "w2 (\(backend)) out", since: blockedAt, within: .seconds(2))
            print("service e2e (health check): w2 out \(Int(failing.time.timeIntervalSince(blockedAt) * 1000)) ms after its workload stopped answering")

            let web = try t.report("web")
            let w2 = try #require(web.members.first { $0.personality == "w2" })
            #expect(!w2.healthy && w2.slots == 0 && (w2.reason ?? "").contains("health check failing"), "\(w2)")
            #expect(try t.report("whoami").members.allSatisfy { $0.healthy }, "whoami has no check: w2 still serves it")
            let during = try LoadClient.once(namespace: t.clients.namespace, sources: t.clients.clients, target: t.vip, port: 80)
            #expect(during.allSatisfy { $0.ok && $0.server != victim }, "every client is served, none by w2: \(during.filter { !$0.ok })")
            #expect(during.filter { owner[$0.source] != victim }.allSatisfy { $0.server == owner[$0.source] }, "the others keep their clients")
            #expect(try t.store.failovers().isEmpty && t.store.processorStates()[victim] == nil, "heartbeats answer: no failover")
            #expect(try !t.store.events(limit: 200).contains { $0.time >= blockedAt && $0.kind == .adapterUnreachable })

            let unblockedAt = Date()
            blocker.remove()
            try await t.waitForEvent(.serviceHealth, containing: "web/w2: health check passes", since: unblockedAt, within: .seconds(10))
            try await t.waitForEvent(.serviceTable, containing: "w2 (\(backend)) in", since: unblockedAt, within: .seconds(2))
            #expect(try t.failover?.services?.installedShares()["web"] ?? nil == slotsBefore, "the same slots as before")
            #expect(try t.owners() == owner)
        }
    }

    func scenario(_ t: ServicePlatform) async throws {
        try await t.bringUp()
        let (engine, clients, vip, store) = (t.engine, t.clients, t.vip, t.store)
        let bindings = try store.bindings()
        let members = Set(["w1", "w2", "w3"].compactMap { bindings[$0] })
        #expect(members.count == 3)

        // Every source reaches a member, the member sees the real source, and the same source
        // always reaches the same member.
        let first = try LoadClient.once(namespace: clients.namespace, sources: clients.clients, target: vip, port: 80)
        #expect(first.allSatisfy { $0.ok }, "\(first.filter { !$0.ok })")
        #expect(first.allSatisfy { $0.seenAs == $0.source }, "no source NAT")
        let owner = Dictionary(uniqueKeysWithValues: first.compactMap { o in o.server.map { (o.source, $0) } })
        #expect(Set(owner.values) == members, "48 sources reach every member: \(Dictionary(grouping: owner.values, by: { $0 }).mapValues(\.count))")
        let again = try LoadClient.once(namespace: clients.namespace, sources: clients.clients, target: vip, port: 80)
        #expect(again.allSatisfy { owner[$0.source] == $0.server }, "a source keeps its processor")
        let udp = try LoadClient.once(namespace: clients.namespace, sources: Array(clients.clients.prefix(8)), target: vip, port: 80, l4: .udp)
        #expect(udp.allSatisfy { $0.ok && members.contains($0.server ?? "") }, "datagrams are served too: \(udp)")

        // Shares as `vpctl service show` reports them: from the kernel, about a third each.
        let (reports, lists) = try engine.serviceStatus()
        let web = try #require(reports.first { $0.name == "web" })
        #expect(web.installed == true && web.members.allSatisfy { $0.healthy })
        #expect(web.members.allSatisfy { abs($0.share - 1.0 / 3) < 0.02 }, "\(web.members.map(\.share))")
        #expect(lists.count == 8, "an address list per service and processor")

        // Kill one member under constant load.
        let failover = try #require(t.failover)
        try await t.startServe()
        try await Task.sleep(for: .seconds(2))
        let victim = try #require(owner[clients.clients[0]])
        let load = Task.detached {
            try LoadClient.steady(namespace: clients.namespace, sources: clients.clients, target: vip, port: 80, workers: 8,
                                  pause: .milliseconds(20), duration: .seconds(12), timeout: .seconds(3))
        }
        try await Task.sleep(for: .seconds(2))
        kill(try #require(QEMUProcess.pid(of: victim)), SIGKILL)
        let outcomes = try await load.value
        let move = try #require(try store.failovers().last { $0.source == victim })
        let declared = move.declaredAt.timeIntervalSince1970
        let failedAfter = outcomes.filter { !$0.ok && $0.startedAt > declared }
        let failedBefore = outcomes.filter { !$0.ok && $0.startedAt <= declared }
        print("service e2e: \(outcomes.count) requests; \(failedBefore.count) failed before declaration, \(failedAfter.count) after; declared \(Int((declared - outcomes[0].startedAt) * 1000)) ms into the load")
        #expect(failedAfter.isEmpty, "no request started after the declaration fails: \(failedAfter.prefix(5))")
        #expect(failedBefore.allSatisfy { owner[$0.source] == victim }, "only requests to the failed processor fail")
        let strays = outcomes.filter { $0.ok && owner[$0.source] != victim && $0.server != owner[$0.source] }
        #expect(strays.isEmpty, "clients of surviving processors keep their processor: \(strays.prefix(5))")

        // After the move, the replacement takes exactly the failed processor's clients.
        let done = try await waitForMove(store, from: victim)
        let replacement = try #require(done.target)
        try await Task.sleep(for: .seconds(1))   // serve syncs the table within a second of `answered`
        let after = try LoadClient.once(namespace: clients.namespace, sources: clients.clients, target: vip, port: 80)
        #expect(after.allSatisfy { $0.ok }, "\(after.filter { !$0.ok })")
        for o in after {
            let expected = owner[o.source] == victim ? replacement : owner[o.source]
            #expect(o.server == expected, "\(o.source): \(o.server ?? "-") (was \(owner[o.source] ?? "-"))")
        }
        let (healed, _) = try engine.serviceStatus()
        #expect(try #require(healed.first { $0.name == "web" }).members.allSatisfy { $0.healthy })

        // A planned move drains first: its member leaves the table before its processor is stopped.
        _ = try await Administration(engine: failover).repair(victim, who: "e2e")
        try await t.waitUntilBooted(victim)   // the repaired processor boots as the hot standby
        let planned = try await Administration(engine: failover).move("w3", to: victim) { _ in }
        #expect(planned.step == .done)
        let events = try store.events(limit: 200).filter { $0.time >= planned.declaredAt }
        let out = try #require(events.firstIndex { $0.kind == .serviceTable && $0.detail.contains("w3") && $0.detail.contains(" out") },
                               "w3 left the table: \(events.map(\.detail))")
        let fenced = try #require(events.firstIndex { $0.kind == .step && $0.detail.hasPrefix("fenced") })
        #expect(out < fenced, "the member left the table before its processor was stopped")
        let moved = try LoadClient.once(namespace: clients.namespace, sources: clients.clients, target: vip, port: 80)
        #expect(moved.allSatisfy { $0.ok }, "\(moved.filter { !$0.ok })")
    }

    func waitForMove(_ store: any PlatformStore, from source: String) async throws -> FailoverRecord {
        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline {
            if let r = try store.failovers().last(where: { $0.source == source }), r.step == .done { return r }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw PlatformError(.internal, nil, "the move off \(source) did not finish in 90 s")
    }
} }

/// A table of the test's own that drops TCP to one address and port, from the host and through
/// it: the workload there stops answering, nothing else does.
struct PortBlocker {
    let table: String
    let address: String
    let port: Int
    let nft: NFTables

    init(table: String, address: String, port: Int) throws {
        self.table = table; self.address = address; self.port = port
        nft = try NFTables()
    }

    func install() throws {
        let drop: JSONValue = [
            ["match": ["op": "==", "left": ["payload": ["protocol": "ip", "field": "daddr"]], "right": .string(address)]],
            ["match": ["op": "==", "left": ["payload": ["protocol": "tcp", "field": "dport"]], "right": .int(port)]],
            ["drop": nil],
        ]
        var commands: [JSONValue] = [["add": ["table": ["family": "ip", "name": .string(table)]]]]
        for (chain, hook) in [("out", "output"), ("fwd", "forward")] {
            commands.append(["add": ["chain": ["family": "ip", "table": .string(table), "name": .string(chain), "type": "filter",
                                               "hook": .string(hook), "prio": -10, "policy": "accept"]]])
            commands.append(["add": ["rule": ["family": "ip", "table": .string(table), "chain": .string(chain), "expr": drop]]])
        }
        try nft.apply(commands)
    }

    func remove() {
        if (try? nft.hasTable(family: "ip", name: table)) == true {
            try? nft.apply([["delete": ["table": ["family": "ip", "name": .string(table)]]]])
        }
    }
}
