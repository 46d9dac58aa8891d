import ServiceBalancing
import Testing

/// How evenly tables spread slots, with and without weights.
struct MaglevBalanceTests {
    /// The paper (§3.4): "each backend will take either ⌊M/N⌋ or ⌈M/N⌉ entries". Measured at
    /// M = 65537: N = 3 → 21845…21846, N = 10 → 6553…6554, N = 100 → 655…656 slots.
    @Test(arguments: [3, 10, 100])
    func equalWeightsDifferByAtMostOneSlot(count: Int) throws {
        let table = try MaglevTable(backends: equalBackends(count))
        let shares = table.shares().values
        #expect(shares.count == count)
        #expect(shares.min() == 65537 / count)
        #expect(shares.max()! - shares.min()! <= 1)
        let imbalance = try #require(MaglevMetrics.imbalance(of: table))
        // M > 100 × N keeps shares within 1 % of ideal (the paper's rule); here far tighter.
        #expect(imbalance.maxOverIdeal < 1.002 && imbalance.minOverIdeal > 0.998)
    }

    @Test func weightTwoGetsTwiceTheShare() throws {
        let table = try MaglevTable(backends: [MaglevBackend(name: "a", weight: 2), MaglevBackend(name: "b"),
                                               MaglevBackend(name: "c")])
        let shares = table.shares()
        #expect(abs(shares["a"]! - 2 * shares["b"]!) <= 2)
        #expect(abs(shares["b"]! - shares["c"]!) <= 1)
        let imbalance = try #require(MaglevMetrics.imbalance(of: table))
        #expect(imbalance.maxOverIdeal < 1.001 && imbalance.minOverIdeal > 0.999)
    }

    @Test func unevenWeightsGetProportionalShares() throws {
        let list = (1...10).map { MaglevBackend(name: "w\($0)", weight: $0) }
        let table = try MaglevTable(backends: list)
        let imbalance = try #require(MaglevMetrics.imbalance(of: table))
        #expect(imbalance.maxOverIdeal < 1.01 && imbalance.minOverIdeal > 0.99)
    }

    /// Equal weights of any value are the classic (unweighted) algorithm.
    @Test func equalWeightsAreTheClassicAlgorithm() throws {
        let ones = try MaglevTable(backends: equalBackends(10))
        let fives = try MaglevTable(backends: equalBackends(10).map { MaglevBackend(name: $0.name, weight: 5) })
        #expect(ones.entries == fives.entries)
    }

    /// Weights near `Int.max` must not overflow the credit arithmetic.
    @Test func hugeWeightsDoNotOverflow() throws {
        let table = try MaglevTable(backends: [MaglevBackend(name: "a", weight: .max), MaglevBackend(name: "b", weight: .max / 2)],
                                    size: 101)
        let shares = table.shares()
        #expect(shares["a"]! + shares["b"]! == 101)
        #expect(abs(shares["a"]! - 2 * shares["b"]!) <= 2)
    }
}
