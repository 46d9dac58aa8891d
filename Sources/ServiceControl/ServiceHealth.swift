import PlatformModel
import StateStore

/// Which personalities may take service flows right now, and why the others may not.
///
/// A personality is healthy when a processor carries it, that processor is not failed, and no
/// move of it is under way short of its new processor answering (reference: failover step
/// `answered`). So a declared failure takes it out at once, a planned move takes it out before
/// its processor is stopped (the drain), and the replacement takes its share back once its
/// heartbeat confirms it.
///
/// On top of that, per service (`healthy(in:)`): the member's backend address must not be
/// unreachable by heartbeats, and the service's health check, if it has one, must not be failing
/// for it — each as `vpctl serve` last saved it in the state store (`BackendHealthRecord`).
public struct ServiceHealth: Sendable, Equatable {
    /// Healthy by their processor (the journal), in every service.
    public var healthy: Set<String>
    /// personality → why it takes no flows (from the journal).
    public var reasons: [String: String]
    /// personality → the processor carrying it.
    public var carriers: [String: String]
    /// Backend findings saved by `vpctl serve` that take a member out: heartbeat rows by address,
    /// check rows by `BackendHealthRecord.checkSubject`.
    public var unreachable: [String: BackendHealthRecord]
    public var failingChecks: [String: BackendHealthRecord]

    public init(healthy: Set<String>, reasons: [String: String] = [:], carriers: [String: String] = [:],
                backends: [BackendHealthRecord] = []) {
        self.healthy = healthy; self.reasons = reasons; self.carriers = carriers
        let down = backends.filter { !$0.up }
        unreachable = Dictionary(down.filter { $0.probe == .heartbeat }.map { ($0.subject, $0) }, uniquingKeysWith: { a, _ in a })
        failingChecks = Dictionary(down.filter { $0.probe == .check }.map { ($0.subject, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// Why `member` takes none of `service`'s flows (nil: it takes its share). The processor's
    /// state comes first: it is what an operator acts on.
    public func reason(service: String, member: String, backend: String?) -> String? {
        if let why = reasons[member] { return why }
        guard healthy.contains(member) else { return "not healthy" }
        if let backend, let row = unreachable[backend] {
            return "backend \(backend) unreachable (heartbeats): \(row.reason), since \(row.since.formatted(.iso8601))"
        }
        if let row = failingChecks[BackendHealthRecord.checkSubject(service: service, member: member)] {
            return "health check failing: \(row.reason), since \(row.since.formatted(.iso8601))"
        }
        return nil
    }

    public func reason(for member: String, in entry: ServiceCatalog.Entry) -> String? {
        reason(service: entry.name, member: member, backend: entry.members.first { $0.personality == member }?.backend)
    }

    /// The members that may take `entry`'s flows.
    public func healthy(in entry: ServiceCatalog.Entry) -> Set<String> {
        Set(entry.members.filter { reason(service: entry.name, member: $0.personality, backend: $0.backend) == nil }.map(\.personality))
    }

    public static func read(definition p: PlatformDefinition, store: any PlatformStore) throws -> ServiceHealth {
        let bindings = try store.bindings()
        let failed = Set(try store.processorStates().values.filter { $0.state == .failed }.map(\.processor))
        let moving = Dictionary(try store.unfinishedFailovers().map { ($0.personality, $0) }, uniquingKeysWith: { a, _ in a })
        var health = ServiceHealth(healthy: [], carriers: bindings, backends: try store.backendHealth())
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
