/// One address at which a service can be reached, described from one client node's point of view
/// (reference 003, "Ordering lists of service addresses", FIG. 22 and FIG. 24).
///
/// Generic over the address type so that the ordering can be checked against the reference's
/// worked example, which uses symbolic addresses; the controller uses `IPv4Address`.
public struct CandidateAddress<Address: Comparable & Sendable>: Sendable {
    /// The service address.
    public var address: Address
    /// Whether the address belongs to an interface of the client node itself.
    public var isLocal: Bool
    /// Routing steps (hops) from the client to the address; 0 for the client's own subnets.
    public var hops: Int
    /// The administrator's priority, for this service, of the network the address belongs to
    /// (higher is preferred), or nil when no priority is set.
    public var priority: Int?

    /// A candidate address as seen by one client node.
    public init(address: Address, isLocal: Bool = false, hops: Int, priority: Int? = nil) {
        self.address = address
        self.isLocal = isLocal
        self.hops = hops
        self.priority = priority
    }
}
