import CoreMetrics
import Prometheus

/// One process's metrics in Prometheus' text exposition format: the registry the metrics are
/// made in (through `factory`) and `render()`, what an HTTP `/metrics` route answers with.
/// Its own registry, not swift-metrics' global bootstrap: a test reads only what it recorded.
public final class MetricsRegistry: Sendable {
    private let registry = PrometheusCollectorRegistry()
    public let factory: any MetricsFactory

    /// `durationBuckets`: histogram buckets by metric name, for durations whose range the
    /// default buckets (5 ms–10 s) do not fit.
    public init(durationBuckets: [String: [Duration]] = [:]) {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = durationBuckets
        self.factory = factory
    }

    /// Every metric recorded so far, in the text exposition format (version 0.0.4).
    public func render() -> String { registry.emitToString() }
}
