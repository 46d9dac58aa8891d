import Failover
import Hosts
import PlatformEngine

extension PlatformEngine {
    /// A failover engine sharing this platform's connections and state store: what `vpctl serve`,
    /// the failover commands and the admin API act through.
    public func failoverEngine(stepDelay: Duration = .zero, metrics: FailoverMetrics = .none) throws -> FailoverEngine {
        let hosts = PlatformHosts(uris: Dictionary(definition.hosts.map { ($0.name, $0.uri) }, uniquingKeysWith: { a, _ in a }),
                          connections: connections)
        return try FailoverEngine(definition: definition, store: store, hosts: hosts, stepDelay: stepDelay, metrics: metrics)
    }
}
