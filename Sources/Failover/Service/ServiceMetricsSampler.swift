import ServiceControl
import StateStore

/// The levels the service's metrics show (processors by state, healthy members of each service),
/// sampled with the watched processors' refresh, and the alerts the journal gained since the last
/// sample: counted there, whoever recorded them (serve, its engine, a `vpctl` command beside it).
struct ServiceMetricsSampler {
    /// The newest event already looked at (nil: not read yet; the journal before serve is not counted).
    private var lastEvent: Int64?

    init(store: any PlatformStore) { lastEvent = try? store.events(limit: 1).last?.id ?? 0 }

    mutating func sample(_ engine: FailoverEngine) throws {
        let metrics = engine.metrics
        let view = try PlatformView(definition: engine.definition, store: engine.store)
        let carrying = Set(view.bindings.values)
        let counts = Dictionary(grouping: view.processors) { name in
            view.failed.contains(name) ? "failed" : view.maintenance.contains(name) ? "maintenance"
                : carrying.contains(name) ? "active" : "standby"
        }.mapValues(\.count)
        for state in ["active", "standby", "failed", "maintenance"] { metrics.processors(state, counts[state] ?? 0) }

        if let services = engine.services {
            let health = try ServiceHealth.read(definition: engine.definition, store: engine.store)
            for entry in try services.currentCatalog().entries {
                metrics.healthyMembers(of: entry.name, health.healthy(in: entry).count)
            }
        }

        guard let after = lastEvent else { lastEvent = try engine.store.events(limit: 1).last?.id ?? 0; return }
        var newest = after
        while true {
            let events = try engine.store.events(after: newest, limit: 1000)
            metrics.alerts(events.filter { $0.kind == .alert }.count)
            guard let last = events.last?.id else { break }
            newest = last
        }
        lastEvent = newest
    }
}
