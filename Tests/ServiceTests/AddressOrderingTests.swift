import PlatformModel
import ServiceBalancing
import Testing

/// Reference 003: per-client ordered lists of a service's addresses.
struct AddressOrderingTests {
    /// The reference's worked example: node 5, {1(0, local), 3(1), 7(1), 9(1), 12(2), 2(2)}.
    func workedExample<A>(_ key: (Int) -> A) -> [CandidateAddress<A>] {
        [CandidateAddress(address: key(1), isLocal: true, hops: 0),
         CandidateAddress(address: key(3), hops: 1), CandidateAddress(address: key(7), hops: 1),
         CandidateAddress(address: key(9), hops: 1),
         CandidateAddress(address: key(12), hops: 2), CandidateAddress(address: key(2), hops: 2)]
    }

    /// The printed result {1, 9, 3, 7, 2, 12} indexes the 2-hop set as 0→12, 1→2: the symbolic
    /// addresses were sorted as text ("12" < "2"), so String addresses reproduce it exactly.
    @Test func reproducesTheReferenceExampleWithSymbolicAddresses() {
        #expect(AddressOrdering.order(workedExample { String($0) }, clientNode: 5) == ["1", "9", "3", "7", "2", "12"])
    }

    /// With numeric addresses 2 sorts before 12, so the 2-hop pair is indexed 0→2, 1→12 and node 5
    /// (5 mod 2 = 1) starts at 12.
    @Test func numericAddressesSortTwoBeforeTwelve() {
        #expect(AddressOrdering.order(workedExample { UInt32($0) }, clientNode: 5) == [1, 9, 3, 7, 12, 2])
        let ipv4 = AddressOrdering.order(workedExample { IPv4Address("10.0.0.\($0)")! }, clientNode: 5)
        #expect(ipv4.map(\.description) == ["10.0.0.1", "10.0.0.9", "10.0.0.3", "10.0.0.7", "10.0.0.12", "10.0.0.2"])
    }

    @Test func localAddressesComeFirstSortedByAddress() {
        let candidates = [CandidateAddress(address: 40, hops: 0), CandidateAddress(address: 30, isLocal: true, hops: 3),
                          CandidateAddress(address: 20, isLocal: true, hops: 1, priority: 1),
                          CandidateAddress(address: 10, hops: 0, priority: 9)]
        for node in 0..<4 {
            #expect(Array(AddressOrdering.order(candidates, clientNode: node).prefix(2)) == [20, 30])
        }
    }

    /// The reference's priority example: addresses 1, 2, 3 on networks A, B, C with System
    /// Registry priorities 3, 2, 1 → try 1, then 2, then 3, whatever the node.
    @Test func higherPriorityComesFirst() {
        let candidates = [CandidateAddress(address: 3, hops: 0, priority: 1), CandidateAddress(address: 1, hops: 2, priority: 3),
                          CandidateAddress(address: 2, hops: 1, priority: 2)]
        for node in 0..<5 { #expect(AddressOrdering.order(candidates, clientNode: node) == [1, 2, 3]) }
    }

    /// Equal priorities rotate by node number like equidistant servers; hops do not matter inside
    /// a priority group; addresses without priority come last, by hops.
    @Test func equalPrioritiesRotateAndUnprioritisedAddressesComeLast() {
        let candidates = [CandidateAddress(address: 50, hops: 0), CandidateAddress(address: 60, hops: 1),
                          CandidateAddress(address: 11, hops: 3, priority: 5), CandidateAddress(address: 12, hops: 1, priority: 5),
                          CandidateAddress(address: 13, hops: 2, priority: 5), CandidateAddress(address: 99, hops: 9, priority: 1),
                          CandidateAddress(address: 55, hops: 0)]
        // Node 4: 4 mod 3 = 1 → 12, 13, 11; the 0-hop pair without priority: 4 mod 2 = 0 → 50, 55.
        #expect(AddressOrdering.order(candidates, clientNode: 4) == [12, 13, 11, 99, 50, 55, 60])
        #expect(AddressOrdering.order(candidates, clientNode: 3) == [11, 12, 13, 99, 55, 50, 60])
    }

    @Test func withoutPrioritiesFewerHopsComeFirst() {
        let candidates = [CandidateAddress(address: 1, hops: 4), CandidateAddress(address: 2, hops: 0),
                          CandidateAddress(address: 3, hops: 2)]
        #expect(AddressOrdering.order(candidates, clientNode: 7) == [2, 3, 1])
    }

    /// Nodes 0..<n put each of n equidistant addresses first exactly once, and every address
    /// appears at every position equally often.
    @Test(arguments: [2, 3, 5, 8])
    func nodeNumbersSpreadTheFirstChoiceEvenly(count: Int) {
        let candidates = (0..<count).map { CandidateAddress(address: 100 + $0 * 7, hops: 1) }
        let lists = (0..<count).map { AddressOrdering.order(candidates, clientNode: $0) }
        for position in 0..<count {
            #expect(Set(lists.map { $0[position] }).count == count)
        }
        // Over 3n consecutive nodes each address is first for exactly 3 of them.
        var firsts: [Int: Int] = [:]
        for node in 10..<(10 + 3 * count) { firsts[AddressOrdering.order(candidates, clientNode: node)[0], default: 0] += 1 }
        #expect(firsts.count == count && firsts.values.allSatisfy { $0 == 3 })
    }

    @Test func noCandidatesGiveAnEmptyList() {
        #expect(AddressOrdering.order([CandidateAddress<Int>](), clientNode: 1).isEmpty)
    }
}
