import Foundation
import PlatformModel
import ServiceControl
import StateStore
import Testing

/// A member's health combines its processor's (the journal), its backend address's heartbeat
/// reachability and, where the service has one, its health check: each as `vpctl serve` saved it.
struct BackendHealthTests {
    let definition: PlatformDefinition
    let store: any PlatformStore
    let catalog: ServiceCatalog

    init() throws {
        let loaded = try PlatformLoader.parse(ServiceControlTests.yaml, file: "sc.yaml")
        definition = loaded.definition
        store = InMemoryPlatformStore()
        let allocations = try Allocator.allocate(definition, remembered: [:])
        try store.remember(bindings: ["a": "p1", "b": "p2", "c": "p3", "client": "p4"], newAllocations: allocations.new,
                           actor: "test", cause: "test")
        catalog = try ServiceCatalog(definition: definition, allocations: allocations.nics)
    }

    func healthy(_ service: String) throws -> Set<String> {
        try ServiceHealth.read(definition: definition, store: store).healthy(in: #require(catalog.entry(named: service)))
    }

    @Test func anUnreachableBackendAddressTakesItsMemberOutOfEveryServiceItBacks() throws {
        #expect(try healthy("web") == ["a", "b", "c"])
        let web = try #require(catalog.entry(named: "web"))
        let b = try #require(web.members.first { $0.personality == "b" }).backend
        try store.saveBackendHealth([BackendHealthRecord(probe: .heartbeat, subject: b, up: false, reason: "4 heartbeats missed")], events: [])
        #expect(try healthy("web") == ["a", "c"])
        #expect(try healthy("db") == ["a"], "db reaches b at the same address")
        let health = try ServiceHealth.read(definition: definition, store: store)
        let why = try #require(health.reason(for: "b", in: web))
        #expect(why.contains(b) && why.contains("unreachable") && why.contains("4 heartbeats missed"), "\(why)")
        // `vpctl service show`: b has no slots and says why.
        let report = try #require(ServiceReport.make(catalog: catalog, health: health, kernel: nil).first { $0.name == "web" })
        let member = try #require(report.members.first { $0.personality == "b" })
        #expect(!member.healthy && member.slots == 0 && member.reason == why)
        try store.saveBackendHealth([BackendHealthRecord(probe: .heartbeat, subject: b, up: true, reason: "answers")], events: [])
        #expect(try healthy("web") == ["a", "b", "c"], "reachable again: back in")
    }

    @Test func aFailingCheckTakesTheMemberOutOfThatServiceOnly() throws {
        try store.saveBackendHealth([BackendHealthRecord(probe: .check, subject: BackendHealthRecord.checkSubject(service: "web", member: "a"),
                                                         up: false, reason: "HTTP 503")], events: [])
        #expect(try healthy("web") == ["b", "c"])
        #expect(try healthy("db") == ["a", "b"], "db has its own check (none): a still serves it")
        let web = try #require(catalog.entry(named: "web"))
        let why = try #require(try ServiceHealth.read(definition: definition, store: store).reason(for: "a", in: web))
        #expect(why.contains("health check") && why.contains("HTTP 503"), "\(why)")
    }

    @Test func theProcessorsOwnStateComesFirst() throws {
        let web = try #require(catalog.entry(named: "web"))
        let b = try #require(web.members.first { $0.personality == "b" }).backend
        try store.saveBackendHealth([BackendHealthRecord(probe: .heartbeat, subject: b, up: false, reason: "missed")], events: [])
        try store.markFailed("p2", reason: "test")
        let why = try #require(try ServiceHealth.read(definition: definition, store: store).reason(for: "b", in: web))
        #expect(why == "p2 failed")
    }

    @Test func addressListsLeaveOutAMemberThatIsOutOfTheService() throws {
        let web = try #require(definition.services?.first { $0.name == "web" })
        try store.saveBackendHealth([BackendHealthRecord(probe: .check, subject: BackendHealthRecord.checkSubject(service: "web", member: "c"),
                                                         up: false, reason: "connection refused")], events: [])
        let allocations = try store.allocations()
        let list = try AddressLists.list(service: web, client: "p1", definition: definition, allocations: allocations,
                                         health: try ServiceHealth.read(definition: definition, store: store))
        #expect(!list.addresses.contains { $0.personality == "c" })
        #expect(list.excluded.values.contains { $0.contains("connection refused") })
    }
}
