import Foundation
import NFTables
@testable import ServiceDataPlane
import Testing

/// The data plane against the host's real nftables (CI runs as root): a table of our own name,
/// removed at the end.
@Suite(.serialized) struct DataPlaneTests {
    let table = "vp_test_\(getpid())"
    static let backends = ["10.249.1.10", "10.249.1.11", "10.249.1.12"]

    /// Slot s belongs to member s mod 3; a member's slots fall back alternately to the other two.
    func web(healthy: [Bool] = [true, true, true], size: Int = 65537, backends: [String] = backends) -> ServiceRuleset.Service {
        let primary = (0..<size).map { Int32($0 % 3) }
        let fallback = (0..<3).map { m in
            stride(from: m, to: size, by: 3).enumerated().map { k, slot in
                let others = (0..<3).filter { $0 != m && healthy[$0] }
                return ServiceRuleset.SlotTarget(slot: Int32(slot), backend: others.isEmpty ? -1 : Int32(others[k % others.count]))
            }
        }
        return ServiceRuleset.Service(name: "web", chain: "svc_web", address: "10.249.9.1", port: 80, l4: .tcp, hashSourcePort: false,
                                      seed: 7, backends: backends, primary: primary, healthy: healthy, fallback: fallback)
    }

    @Test func theKernelsGenerationMovesWithEveryChangeOfTheRulesetAndOnlyThen() throws {
        let plane = try DataPlane()
        defer { try? plane.remove(table: table) }
        let before = try DataPlane.generation()
        #expect(try DataPlane.generation() == before, "reading is no change")
        try plane.program(ServiceRuleset(table: table, routedBridges: ["vptest0"], services: [web()]))
        let programmed = try DataPlane.generation()
        #expect(programmed != before)
        try plane.switchMembers(table: table, from: web(), to: web(healthy: [true, false, true]))
        #expect(try DataPlane.generation() != programmed, "a switch of members is a new generation too")
    }

    @Test func programReadBackSwitchAndRemove() throws {
        let plane = try DataPlane()
        defer { try? plane.remove(table: table) }
        let dns = ServiceRuleset.Service(name: "dns", chain: "svc_dns", address: "10.249.9.2", port: 53, l4: .udp, hashSourcePort: true,
                                         seed: 9, backends: ["10.249.1.10"], primary: [0, 0, 0, 0, 0], healthy: [true],
                                         fallback: [(0..<5).map { .init(slot: Int32($0), backend: -1) }])
        try plane.program(ServiceRuleset(table: table, routedBridges: ["vptest0"], services: [web(), dns]))
        #expect(try plane.hasTable(table))
        #expect(try plane.installedShares(table: table, chain: "svc_web") == ["10.249.1.10": 21846, "10.249.1.11": 21846, "10.249.1.12": 21845])
        #expect(try plane.installedShares(table: table, chain: "svc_dns") == ["10.249.1.10": 5])

        // Member 1 leaves: one small transaction sends its slots to its fallback chain.
        let without1 = web(healthy: [true, false, true])
        #expect(NFTRuleset.healthChanges(table: table, from: web(), to: without1).count == 2, "flush + one rule")
        try plane.switchMembers(table: table, from: web(), to: without1)
        try plane.refreshFallbacks(table: table, from: web(), to: without1)
        let shares = try #require(try plane.installedShares(table: table, chain: "svc_web"))
        #expect(shares == without1.shares.filter { $0.value > 0 } && shares["10.249.1.11"] == nil && shares.values.reduce(0, +) == 65537)

        // Nobody left: no slot reaches a backend (the isolation chain refuses the service's packets).
        let none = web(healthy: [false, false, false])
        try plane.switchMembers(table: table, from: without1, to: none)
        try plane.refreshFallbacks(table: table, from: without1, to: none)
        #expect(try plane.installedShares(table: table, chain: "svc_web") == [:])

        // Everyone back: the original table.
        try plane.switchMembers(table: table, from: none, to: web())
        try plane.refreshFallbacks(table: table, from: none, to: web())
        #expect(try plane.installedShares(table: table, chain: "svc_web") == web().shares.filter { $0.value > 0 })

        try plane.remove(table: table)
        #expect(try !plane.hasTable(table))
        #expect(try plane.installedShares(table: table, chain: "svc_web") == nil)
    }

    @Test func aRefusedBatchChangesNothing() throws {
        let plane = try DataPlane()
        defer { try? plane.remove(table: table) }
        try plane.program(ServiceRuleset(table: table, routedBridges: [], services: [web(size: 7)]))
        let before = try plane.installedShares(table: table, chain: "svc_web")
        // An address nftables cannot parse: the whole batch (delete table + build it again) is refused.
        #expect(throws: NFTablesError.self) {
            try plane.program(ServiceRuleset(table: table, routedBridges: [], services: [web(size: 7, backends: ["10.249.1.999", "10.249.1.11", "10.249.1.12"])]))
        }
        #expect(try plane.installedShares(table: table, chain: "svc_web") == before)
        #expect(before == ["10.249.1.10": 3, "10.249.1.11": 2, "10.249.1.12": 2])
    }

    @Test func tableNamesAreNFTablesIdentifiers() {
        #expect(ServiceRuleset.tableName(platform: "demo") == "vp_demo")
        let odd = ServiceRuleset.tableName(platform: "my-plat.form")
        #expect(odd.hasPrefix("vp_my_plat_form_") && odd.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" })
        #expect(ServiceRuleset.tableName(platform: "my_plat_form") != odd)
    }
}
