import PlatformModel
import StateStore

/// Which personalities may take service flows right now, and why the others may not.
///
/// A personality is healthy when a processor carries it, that processor is not failed, and no
/// move of it is under way short of its new processor answering (reference: failover step
/// `answered`). So a declared failure takes it out at once, a planned move takes it out before
/// its processor is stopped (the drain), and the replacement takes its share back once its
/// heartbeat confirms it.
public struct ServiceHealth: Sendable, Equatable {
    public var healthy: Set<String>
    /// personality → why it takes no flows.
    public var reasons: [String: String]
    /// personality → the processor carrying it.
    public var carriers: [String: String]

    public init(healthy: Set<String>, reasons: [String: String] = [:], carriers: [String: String] = [:]) {
        self.healthy = healthy; self.reasons = reasons; self.carriers = carriers
    }

    public static func read(definition p: PlatformDefinition, store: StateStore) throws -> ServiceHealth {
        let bindings = try store.bindings()
        let failed = Set(try store.processorStates().values.filter { $0.state == .failed }.map(\.processor))
        let moving = Dictionary(try store.unfinishedFailovers().map { ($0.personality, $0) }, uniquingKeysWith: { a, _ in a })
        var health = ServiceHealth(healthy: [], carriers: bindings)
        for person in Set((p.services ?? []).flatMap(\.members)) {
            if let move = moving[person], move.step < .answered {
                health.reasons[person] = move.planned
                    ? "draining: moving from \(move.source) (\(move.step.rawValue))"
                    : "\(move.source) failed; moving (\(move.step.rawValue))"
            } else if let carrier = bindings[person] {
                if failed.contains(carrier) { health.reasons[person] = "\(carrier) failed" }
                else { health.healthy.insert(person) }
            } else {
                health.reasons[person] = "no processor carries it"
            }
        }
        return health
    }
}
