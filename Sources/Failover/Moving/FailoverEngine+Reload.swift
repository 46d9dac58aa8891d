import PlatformModel

extension FailoverEngine {
    /// The same engine (state store, hosts, probes, metrics) driven by another definition of the
    /// same platform: what a reload puts in place.
    func with(definition: PlatformDefinition) throws -> FailoverEngine {
        try FailoverEngine(definition: definition, store: store, hosts: hosts, heartbeatPort: heartbeatPort, stepDelay: stepDelay,
                           standbys: standbys, answers: answers, metrics: metrics)
    }
}
