import Foundation
import PlatformModel
import ServiceControl
import ServiceDataPlane
import StateStore
import Testing

/// The controller's pure side: members and backends from a definition, health from the journal,
/// the kernel's lookup table under health changes, and per-client address lists (reference 003).
struct ServiceControlTests {
    static let yaml = """
        platform: sc
        hosts: [{ name: local, uri: "test:///default" }]
        processors:
          vcpus: 1
          memoryMiB: 128
          members: [{ name: p1, host: local }, { name: p2, host: local }, { name: p3, host: local }, { name: p4, host: local }, { name: p5, host: local }]
        vlans:
          - { name: front, id: 100, subnet: 10.70.1.0/24 }
          - { name: back, id: 200, subnet: 10.70.2.0/24 }
        personalities:
          - { name: a, nics: [{ vlan: front, ip: 10.70.1.10 }, { vlan: back, ip: 10.70.2.10 }] }
          - { name: b, nics: [{ vlan: front, ip: 10.70.1.11 }, { vlan: back, ip: 10.70.2.11 }] }
          - { name: c, nics: [{ vlan: front, ip: 10.70.1.12 }] }
          - { name: client, nics: [{ vlan: back, ip: 10.70.2.50 }] }
        services:
          - { name: web, address: 10.70.9.1, port: 80, protocol: tcp, members: [a, b, c], weights: { c: 2 } }
          - { name: db, address: 10.70.9.2, port: 5432, protocol: tcp, members: [a, b], networkPriority: { front: 5, back: 1 } }
        """

    let definition: PlatformDefinition
    let store: any PlatformStore
    let allocations: [String: NICAllocation]

    init() throws {
        let loaded = try PlatformLoader.parse(Self.yaml, file: "sc.yaml")
        #expect(Validator.validate(loaded).isEmpty, "\(Validator.validate(loaded))")
        definition = loaded.definition
        store = InMemoryPlatformStore()
        let result = try Allocator.allocate(definition, remembered: [:])
        allocations = result.nics
        try store.remember(bindings: ["a": "p1", "b": "p2", "c": "p3", "client": "p4"], newAllocations: result.new, actor: "test", cause: "test")
    }

    @Test func membersAreReachedOnTheFirstVLANTheyAllShare() throws {
        let catalog = try ServiceCatalog(definition: definition, allocations: allocations)
        let web = try #require(catalog.entry(named: "web"))
        #expect(web.vlan == "front")
        #expect(web.members.map(\.backend) == ["10.70.1.10", "10.70.1.11", "10.70.1.12"])
        #expect(catalog.table == "vp_sc")
        #expect(catalog.routedBridges.count == 1, "only front carries service backends")
    }

    @Test func weightsShapeTheSharesAndAFailureMovesOnlyTheFailedMembersSlots() throws {
        let catalog = try ServiceCatalog(definition: definition, allocations: allocations)
        let web = try #require(catalog.entry(named: "web"))
        let all = catalog.rules(for: web, healthy: ["a", "b", "c"])
        let shares = all.shares
        #expect(abs(Double(shares["10.70.1.12"]!) / Double(shares["10.70.1.10"]!) - 2) < 0.1, "weight 2 gets twice the share: \(shares)")

        let withoutB = catalog.rules(for: web, healthy: ["a", "c"])
        #expect(withoutB.sameLayout(as: all) && withoutB.healthy == [true, false, true])
        let moved = zip(all.effectiveSlots, withoutB.effectiveSlots).filter { $0 != $1 }
        #expect(moved.allSatisfy { $0.0 == 1 && $0.1 >= 0 }, "only b's slots change, and they all find a member")
        #expect(moved.count == shares["10.70.1.11"], "all of b's slots change")
        #expect(withoutB.shares["10.70.1.11"] ?? 0 == 0)
        // b's fallback was ready before it left: leaving changes b's member chain and nothing else
        // that new flows of a, c or b's old clients depend on.
        #expect(all.fallback[1] == withoutB.fallback[1])
        #expect(catalog.rules(for: web, healthy: ["a", "b", "c"]) == all, "b back: the original table")
        #expect(catalog.rules(for: web, healthy: []).effectiveSlots.allSatisfy { $0 < 0 }, "no healthy member: no backend")
    }

    @Test func healthFollowsTheJournal() throws {
        #expect(try ServiceHealth.read(definition: definition, store: store).healthy == ["a", "b", "c"])
        let record = FailoverRecord(personality: "b", source: "p2", sourceHost: "local", planned: false, reason: "test", detectedAt: Date())
        let declared = try #require(try store.declare(record, event: PlatformEvent(kind: .detection, detail: "p2 failed")))
        var health = try ServiceHealth.read(definition: definition, store: store)
        #expect(health.healthy == ["a", "c"])
        #expect(health.reasons["b"]?.contains("p2 failed") == true)
        var moved = declared
        moved.target = "p5"; moved.targetHost = "local"
        try store.advance(moved, to: .attached, event: PlatformEvent(kind: .step, detail: "attached"), rebind: true)
        #expect(try ServiceHealth.read(definition: definition, store: store).healthy == ["a", "c"], "attached but not answering yet: still out")
        let id = try #require(moved.id)
        let attached = try #require(try store.failover(id: id))
        try store.advance(attached, to: .answered, event: PlatformEvent(kind: .step, detail: "answered"))
        health = try ServiceHealth.read(definition: definition, store: store)
        #expect(health.healthy == ["a", "b", "c"], "answering on its new processor: back in")
        #expect(health.carriers["b"] == "p5")
    }

    @Test func addressListsPutLocalFirstAndLeaveOutWhatTheClientCannotReach() throws {
        let health = try ServiceHealth.read(definition: definition, store: store)
        let web = try #require(definition.services?.first { $0.name == "web" })
        // p1 carries a: its own two addresses first; c (front only) is on a VLAN p1 is on too.
        let forP1 = try AddressLists.list(service: web, client: "p1", definition: definition, allocations: allocations, health: health)
        #expect(forP1.node == 1)
        #expect(forP1.addresses.prefix(2).allSatisfy { $0.local })
        #expect(forP1.addresses.count == 5)
        // p4 (client) is on back only: front addresses are left out, with the reason.
        let forP4 = try AddressLists.list(service: web, client: "p4", definition: definition, allocations: allocations, health: health)
        #expect(forP4.addresses.map(\.address).sorted() == ["10.70.2.10", "10.70.2.11"])
        #expect(forP4.excluded["10.70.1.12"]?.contains("no NIC on VLAN 'front'") == true)
        // Node 4 mod 2 = 0: the lower address first; node 5 (p5 carries nothing) reaches nothing.
        #expect(forP4.addresses.first?.address == "10.70.2.10")
        let forP5 = try AddressLists.list(service: web, client: "p5", definition: definition, allocations: allocations, health: health)
        #expect(forP5.addresses.isEmpty)
    }

    @Test func networkPriorityOrdersBeforeHops() throws {
        let health = try ServiceHealth.read(definition: definition, store: store)
        let db = try #require(definition.services?.first { $0.name == "db" })
        // p3 carries c (front only): it reaches a and b on front (priority 5); back is unreachable.
        let forP3 = try AddressLists.list(service: db, client: "p3", definition: definition, allocations: allocations, health: health)
        #expect(forP3.addresses.map(\.priority) == [5, 5])
        // p3 is node 3: 3 mod 2 = 1, so the higher of the two equal-priority addresses comes first.
        #expect(forP3.addresses.map(\.address) == ["10.70.1.11", "10.70.1.10"])
    }

    @Test func theRulesetSwapsOneServiceInOneTransaction() throws {
        let catalog = try ServiceCatalog(definition: definition, allocations: allocations)
        let web = try #require(catalog.entry(named: "web"))
        let all = catalog.rules(for: web, healthy: ["a", "b", "c"]), onlyA = catalog.rules(for: web, healthy: ["a"])
        let flips = NFTRuleset.healthChanges(table: catalog.table, from: all, to: onlyA).map { $0.serialized() }
        #expect(flips.count == 4, "b and c: flush and one rule each")
        #expect(flips.allSatisfy { $0.count < 300 }, "a health change is a few hundred bytes")
        #expect(flips[1].contains(#""goto":{"target":"svc_web_f1"}"#))
        let refresh = NFTRuleset.fallbackChanges(table: catalog.table, from: all, to: onlyA).map { $0.serialized() }
        #expect(refresh.contains { $0.contains(#""jhash":{"mod":65537"#) } && !refresh.joined().contains("10.70.1.11"))
    }
}
