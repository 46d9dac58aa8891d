/// Answer of `POST /v1/probe` (body: an IPv4 address): whether a heartbeat sent from the
/// processor to that address on the heartbeat port was answered within a second.
public struct ProbeResult: Codable, Sendable, Equatable {
    public var address: String
    public var reachable: Bool
    /// Round-trip time in milliseconds when reachable.
    public var rttMilliseconds: Double?
    public init(address: String, reachable: Bool, rttMilliseconds: Double?) {
        self.address = address; self.reachable = reachable; self.rttMilliseconds = rttMilliseconds
    }
}
