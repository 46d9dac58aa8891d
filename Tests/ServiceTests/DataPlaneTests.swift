import Foundation
import NFTables
@testable import ServiceDataPlane
import Testing

/// The data plane against the host's real nftables (CI runs as root): a table of our own name,
/// removed at the end.
@Suite(.serialized) struct DataPlaneTests {
    let table = "vp_test_\(getpid())"

    func service(_ backends: [String], slots: [Int32], l4: ServiceRuleset.Service.L4 = .tcp) -> ServiceRuleset.Service {
        ServiceRuleset.Service(name: "web", chain: "svc_web", address: "10.249.9.1", port: 80, l4: l4, hashSourcePort: false,
                               seed: 7, backends: backends, slots: slots)
    }

    @Test func programReadBackSwapAndRemove() throws {
        let plane = try DataPlane()
        defer { try? plane.remove(table: table) }
        let slots: [Int32] = (0..<65537).map { Int32($0 % 3) }
        let ruleset = ServiceRuleset(table: table, routedBridges: ["vptest0"],
                                     services: [service(["10.249.1.10", "10.249.1.11", "10.249.1.12"], slots: slots),
                                                ServiceRuleset.Service(name: "dns", chain: "svc_dns", address: "10.249.9.2", port: 53,
                                                                       l4: .udp, hashSourcePort: true, seed: 9,
                                                                       backends: ["10.249.1.10"], slots: [0, 0, 0, 0, 0])])
        try plane.program(ruleset)
        #expect(try plane.hasTable(table))
        #expect(try plane.installedShares(table: table, chain: "svc_web") == ["10.249.1.10": 21846, "10.249.1.11": 21846, "10.249.1.12": 21845])
        #expect(try plane.installedShares(table: table, chain: "svc_dns") == ["10.249.1.10": 5])

        // Backend 1 leaves: its slots go to the others, in one swap.
        let without: [Int32] = slots.map { $0 == 1 ? ($0 + 1) % 3 == 0 ? 0 : 2 : $0 }
        try plane.update(table: table, service: service(["10.249.1.10", "10.249.1.11", "10.249.1.12"], slots: without))
        let shares = try #require(try plane.installedShares(table: table, chain: "svc_web"))
        #expect(shares["10.249.1.11"] == nil && shares.values.reduce(0, +) == 65537)

        // No backend at all: the chain is empty (the isolation chain refuses the service's packets).
        try plane.update(table: table, service: service(["10.249.1.10"], slots: [-1, -1, -1]))
        #expect(try plane.installedShares(table: table, chain: "svc_web") == [:])

        try plane.remove(table: table)
        #expect(try !plane.hasTable(table))
        #expect(try plane.installedShares(table: table, chain: "svc_web") == nil)
    }

    @Test func aRefusedBatchChangesNothing() throws {
        let plane = try DataPlane()
        defer { try? plane.remove(table: table) }
        try plane.program(ServiceRuleset(table: table, routedBridges: [], services: [service(["10.249.1.10"], slots: [0, 0, 0])]))
        // An address nftables cannot parse: the whole batch (flush + add) is refused.
        #expect(throws: NFTablesError.self) {
            try plane.update(table: table, service: service(["10.249.1.999"], slots: [0, 0, 0]))
        }
        #expect(try plane.installedShares(table: table, chain: "svc_web") == ["10.249.1.10": 3])
    }

    @Test func tableNamesAreNFTablesIdentifiers() {
        #expect(ServiceRuleset.tableName(platform: "demo") == "vp_demo")
        let odd = ServiceRuleset.tableName(platform: "my-plat.form")
        #expect(odd.hasPrefix("vp_my_plat_form_") && odd.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" })
        #expect(ServiceRuleset.tableName(platform: "my_plat_form") != odd)
    }
}
