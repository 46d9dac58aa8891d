import CoreMetrics
import Metrics

/// What the failover service counts and times, made through one factory (Prometheus in
/// `vpctl serve`, nothing by default), so nothing depends on a process-wide bootstrap.
public struct FailoverMetrics: Sendable {
    private let factory: any MetricsFactory

    public init(factory: any MetricsFactory) { self.factory = factory }

    /// Records nothing: benchmarks and tests that do not look at metrics.
    public static let none = FailoverMetrics(factory: NOOPMetricsHandler.instance)

    /// Heartbeat replies take well under a millisecond on a host's bridges; the default buckets
    /// (from 5 ms) would put every one in the first.
    public static let durationBuckets: [String: [Duration]] = [
        "vp_heartbeat_rtt_seconds": [.microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
                                     .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                                     .milliseconds(50), .milliseconds(100), .milliseconds(250)],
    ]

    func declared(by source: Detection.Source) {
        Counter(label: "vp_declarations_total", dimensions: [("source", source.rawValue)], factory: factory).increment()
    }

    /// A silence the declaration gate held (counted once per silence, not per round).
    func heldSilence() { Counter(label: "vp_declaration_holds_total", factory: factory).increment() }

    func moveEnded(_ outcome: String) {
        Counter(label: "vp_moves_total", dimensions: [("outcome", outcome)], factory: factory).increment()
    }

    func stepTook(_ step: String, _ duration: Duration) {
        Timer(label: "vp_move_step_seconds", dimensions: [("step", step)], factory: factory).recordInterval(duration)
    }

    /// One per prober, made once: the prober records into it in batches (`RTTBatch`).
    func heartbeatRTT(of processor: String) -> Timer {
        Timer(label: "vp_heartbeat_rtt_seconds", dimensions: [("processor", processor)], factory: factory)
    }

    func processors(_ state: String, _ count: Int) {
        Gauge(label: "vp_processors", dimensions: [("state", state)], factory: factory).record(count)
    }

    func healthyMembers(of service: String, _ count: Int) {
        Gauge(label: "vp_service_members_healthy", dimensions: [("service", service)], factory: factory).record(count)
    }

    func alerts(_ count: Int) { Counter(label: "vp_alerts_total", factory: factory).increment(by: count) }

    func reloaded(_ result: String) {
        Counter(label: "vp_reloads_total", dimensions: [("result", result)], factory: factory).increment()
    }
}

extension Timer {
    func recordInterval(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
