import ServiceDataPlane
import Testing
@testable import VPBench

/// The throughput bench programs the controller's rules for its own topology.
@Suite struct ServiceBenchServiceTests {
    let backends = [(name: "b1", address: "10.219.0.10"), (name: "b2", address: "10.219.0.11")]

    @Test func theBenchServiceIsAValidDefinitionRoutedOverTheBenchBridge() throws {
        let service = try ServiceBenchService(bridge: "vpbnch0", address: "10.219.9.1", backends: backends)
        #expect(service.table == "vp_bench")
        // The controller itself chose the bench bridge as the one to route (the VLAN's bridge).
        #expect(service.catalog.routedBridges == ["vpbnch0"])
    }

    @Test func everyBackendIsInWithItsShareOfTheSlots() throws {
        let service = try ServiceBenchService(bridge: "vpbnch0", address: "10.219.9.1", backends: backends)
        let ruleset = service.ruleset(routedBridges: [])
        #expect(ruleset.routedBridges.isEmpty)
        let web = try #require(ruleset.services.first)
        #expect(ruleset.services.count == 1)
        #expect(web.address == "10.219.9.1" && web.port == 80 && web.l4 == .tcp)
        #expect(web.backends == backends.map(\.address))
        #expect(web.healthy == [true, true])
        let shares = [Int32(0), 1].map { b in web.primary.filter { $0 == b }.count }
        #expect(shares.reduce(0, +) == web.primary.count && abs(shares[0] - shares[1]) <= 1, "equal weights: \(shares)")
        // Each backend's fallback sends its slots to the other one.
        #expect(web.fallback[0].allSatisfy { $0.backend == 1 } && web.fallback[1].allSatisfy { $0.backend == 0 })
    }
}
