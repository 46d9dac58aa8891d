/// Per-client ordered lists of a service's addresses (reference 003, lines ~860–1010): each client
/// tries the addresses in its list's order, so the order decides both where traffic goes (the
/// administrator's network priorities, or proximity) and how clients spread over equally good
/// servers.
public enum AddressOrdering {
    /// The order in which the client node numbered `clientNode` should try `candidates`.
    ///
    /// 1. Addresses local to the client come first, sorted by address (STEP 2400).
    /// 2. The other addresses form groups of equally preferred addresses:
    ///    - if any of them has an administrator priority, one group per priority, highest first
    ///      (STEP 2212), and the addresses without a priority after all of those, grouped by hop
    ///      count (the administrator expressed no preference for them, so proximity decides, as
    ///      the reference does when no priorities are set);
    ///    - otherwise one group per hop count, fewest hops first (STEP 2402).
    /// 3. Within a group, addresses are indexed 0..<n from lowest to highest address (STEP 2406)
    ///    and emitted at index `((clientNode mod n) + k) mod n` for k = 0..<n (STEP 2408), so the
    ///    clients' first choices are spread evenly over the group.
    ///
    /// The reference describes the rotation only for equidistant servers; it is applied to
    /// equal-priority groups too, because equal-priority addresses are equally preferred and the
    /// same load argument holds for them.
    ///
    /// Addresses are expected to be unique, as the reference's node addresses are.
    ///
    /// Worked example of the reference: node 5, `{1(0, local), 3(1), 7(1), 9(1), 12(2), 2(2)}`
    /// gives `{1, 9, 3, 7, 2, 12}` (with the symbolic addresses sorted as text, "12" < "2").
    public static func order<Address>(_ candidates: [CandidateAddress<Address>], clientNode: Int) -> [Address] {
        let local = candidates.filter(\.isLocal).map(\.address).sorted()
        let remote = candidates.filter { !$0.isLocal }
        let groups = remote.contains { $0.priority != nil } ? priorityGroups(remote) : hopGroups(remote)
        return local + groups.flatMap { rotated($0.sorted(), forNode: clientNode) }
    }

    /// Groups by priority, highest first; addresses without priority last, grouped by hops.
    static func priorityGroups<Address>(_ candidates: [CandidateAddress<Address>]) -> [[Address]] {
        let byPriority = Dictionary(grouping: candidates.filter { $0.priority != nil }) { $0.priority! }
        let prioritized = byPriority.keys.sorted(by: >).map { byPriority[$0]!.map(\.address) }
        return prioritized + hopGroups(candidates.filter { $0.priority == nil })
    }

    /// Groups by hop count, fewest hops first.
    static func hopGroups<Address>(_ candidates: [CandidateAddress<Address>]) -> [[Address]] {
        let byHops = Dictionary(grouping: candidates, by: \.hops)
        return byHops.keys.sorted().map { byHops[$0]!.map(\.address) }
    }

    /// `sorted` (a group indexed by ascending address) in the order the reference's mapping index
    /// `((node mod n) + k) mod n`, k = 0..<n, visits it.
    static func rotated<Address>(_ sorted: [Address], forNode node: Int) -> [Address] {
        let count = sorted.count
        guard count > 1 else { return sorted }
        // Node numbers are not negative; the extra `+ count` keeps a negative one in range anyway.
        let start = (node % count + count) % count
        return (0..<count).map { sorted[(start + $0) % count] }
    }
}
