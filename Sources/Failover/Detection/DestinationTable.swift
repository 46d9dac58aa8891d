/// Heartbeat timing. Defaults measured on these machines (TCG guests, 2 cores): a heartbeat
/// round trip takes ~2.4 ms (median) and 8 ms at p99 with every core saturated, so 40 ms is a
/// wide margin for one reply; but a busy TCG guest (hot-plug, boot of a neighbour) can go quiet
/// for ~300 ms, so 4 silent rounds of 100 ms are needed: a hang is declared after 400–500 ms.
public struct HeartbeatSettings: Sendable, Equatable {
    /// Time between rounds to one processor.
    public var interval: Duration = .milliseconds(100)
    /// Shortest wait for a reply; the wait is `timeoutFactor` × the learned response time when
    /// that is longer (never more than half the interval, so a round fits in one interval).
    public var minimumTimeout: Duration = .milliseconds(40)
    public var timeoutFactor = 8
    /// Consecutive misses after which an address (adapter) is unreachable.
    public var threshold = 4
    /// Consecutive replies after which an unreachable address is reachable again (hysteresis).
    public var recoverAfter = 2

    /// The defaults, overridden by the definition's `failover.heartbeat` where set.
    public init(intervalMs: Int?, timeoutMs: Int?, threshold: Int?) {
        if let intervalMs { interval = .milliseconds(intervalMs) }
        if let timeoutMs { minimumTimeout = .milliseconds(timeoutMs) }
        if let threshold { self.threshold = threshold }
    }
}

/// One processor's entry in the destination address table (reference 002, method 300): its
/// addresses, one per adapter, primary first then alternates in class-of-service order, each
/// with a status and a failure counter, plus the processor's learned normal response time.
///
/// Pure: the prober feeds it replies and misses and acts on the events it returns; when it
/// `isSilent`, the prober reports the processor as failed and the declaration gate judges.
public struct DestinationEntry: Sendable, Equatable {
    public struct Address: Sendable, Equatable {
        public enum Status: String, Sendable { case reachable, unreachable }
        public var vlan: String
        public var ip: String
        public var status: Status = .reachable
        /// Answered at least once: only then does its silence count (a NIC just plugged in may
        /// still be waiting for its DHCP lease).
        public var armed = false
        /// Consecutive misses (reset by a reply).
        public var failures = 0
        /// Consecutive replies while unreachable (for recovery).
        public var replies = 0
        public init(vlan: String, ip: String) { self.vlan = vlan; self.ip = ip }
    }

    public enum Event: Sendable, Equatable {
        case adapterUnreachable(vlan: String, ip: String, misses: Int)
        case adapterReachable(vlan: String, ip: String)
    }

    public var processor: String
    public var addresses: [Address]
    public let settings: HeartbeatSettings
    /// Exponentially weighted mean of reply times; nil until the first reply.
    public private(set) var normalResponseTime: Duration?

    public init(processor: String, addresses: [Address], settings: HeartbeatSettings) {
        self.processor = processor; self.addresses = addresses; self.settings = settings
    }

    /// How long to wait for a reply this round.
    public var timeout: Duration {
        let learned = (normalResponseTime ?? .zero) * settings.timeoutFactor
        return min(max(settings.minimumTimeout, learned), settings.interval / 2)
    }

    /// Every address that ever answered is unreachable: the processor is suspect. Whether it is
    /// declared failed is for `DeclarationGate`; the entry keeps counting, so a suspect that
    /// answers again recovers like any address.
    public var isSilent: Bool {
        let armed = addresses.filter(\.armed)
        return !armed.isEmpty && armed.allSatisfy { $0.status == .unreachable }
    }

    /// Consecutive rounds that every address that ever answered has missed (an unreachable one
    /// counts as the threshold, unless it is answering again); 0 while one of them answers.
    public var silentRounds: Int {
        addresses.filter(\.armed).map { a in
            a.status == .reachable ? a.failures : a.replies > 0 ? 0 : settings.threshold
        }.min() ?? 0
    }

    public var silenceReason: String {
        let list = addresses.filter(\.armed).map { "\($0.ip) (\($0.vlan))" }.joined(separator: ", ")
        return "no heartbeat reply on any address: \(list), \(silentRounds) misses each"
    }

    public mutating func replied(_ index: Int, after rtt: Duration) -> [Event] {
        guard addresses.indices.contains(index) else { return [] }
        var events: [Event] = []
        normalResponseTime = normalResponseTime.map { $0 * 0.875 + rtt * 0.125 } ?? rtt
        var a = addresses[index]
        a.failures = 0
        a.armed = true
        if a.status == .unreachable {
            a.replies += 1
            if a.replies >= settings.recoverAfter {
                a.status = .reachable
                a.replies = 0
                events.append(.adapterReachable(vlan: a.vlan, ip: a.ip))
            }
        }
        addresses[index] = a
        return events
    }

    public mutating func missed(_ index: Int) -> [Event] {
        guard addresses.indices.contains(index), addresses[index].armed else { return [] }
        var a = addresses[index]
        a.replies = 0
        guard a.status == .reachable else { addresses[index] = a; return [] }
        a.failures += 1
        var events: [Event] = []
        if a.failures >= settings.threshold {
            a.status = .unreachable
            events.append(.adapterUnreachable(vlan: a.vlan, ip: a.ip, misses: a.failures))
        }
        addresses[index] = a
        return events
    }
}
