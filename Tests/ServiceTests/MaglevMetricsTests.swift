import ServiceBalancing
import Testing

struct MaglevMetricsTests {
    @Test func aTableIsNotDisruptedByItself() throws {
        let table = try MaglevTable(backends: equalBackends(7))
        #expect(MaglevMetrics.disruption(from: table, to: table) == 0)
    }

    @Test func minimumDisruptionIsTheRemovedBackendsShare() throws {
        let table = try MaglevTable(backends: equalBackends(3), size: 13)
        let share = table.shares()["backend-1"]!
        #expect(MaglevMetrics.minimumDisruption(removing: "backend-1", from: table) == Double(share) / 13)
        #expect(MaglevMetrics.minimumDisruption(removing: "nobody", from: table) == 0)
    }

    @Test func emptyingEverySlotDisruptsEverything() throws {
        let table = try MaglevTable(backends: equalBackends(3))
        #expect(MaglevMetrics.disruption(from: table, to: try MaglevTable(backends: [])) == 1)
    }

    @Test func imbalanceComparesWithTheWeightedIdeal() throws {
        // 13 slots over weights 2:1 → ideal 8.67 and 4.33.
        let table = try MaglevTable(backends: [MaglevBackend(name: "a", weight: 2), MaglevBackend(name: "b")], size: 13)
        let shares = table.shares()
        let imbalance = try #require(MaglevMetrics.imbalance(of: table))
        let ratios = [Double(shares["a"]!) / (13.0 * 2 / 3), Double(shares["b"]!) / (13.0 / 3)]
        #expect(imbalance.maxOverIdeal == ratios.max()!)
        #expect(imbalance.minOverIdeal == ratios.min()!)
        #expect(MaglevMetrics.imbalance(of: try MaglevTable(backends: [])) == nil)
    }
}
