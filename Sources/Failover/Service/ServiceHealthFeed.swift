import Foundation
import Logging
import ServiceControl
import StateStore
import SystemSupport

/// Part of `vpctl serve`: hands each service member's backend health to the service tables.
/// - Heartbeat reachability: every 50 ms, what the destination table knows of each backend
///   address (`HeartbeatMonitor.addressStates`) goes through `ReachabilityTracker`.
/// - Health checks: each service's `healthCheck` runs against its members' backend addresses on
///   threads of their own (`HealthCheckRunner`).
/// Each change is saved in the state store (so `vpctl service show`, `vpctl apply` and a
/// restarted `serve` know it) with an event, then the service tables are synced: a member whose
/// backend is down leaves its services' tables (a one-rule switch), and returns when it is up.
struct ServiceHealthFeed: Sendable {
    /// A watched backend address that has not answered one heartbeat in this long is unreachable.
    /// A running guest answers its first heartbeat within ~100–200 ms of being watched here (the
    /// next round); 2 s is a margin for a busy host, short enough that clients of a backend
    /// whose link was down when `serve` started are failed for about that long, not for ever.
    static let unansweredGrace: TimeInterval = 2
    static let period: Duration = .milliseconds(50)

    let engine: FailoverEngine
    let monitor: HeartbeatMonitor
    let logger: Logger
    var probe: any HealthProbe = SocketHealthProbe()

    /// Runs until `serve` is cancelled (it runs this only for a platform with services: a task
    /// that returns would end `serve`).
    func run() async throws {
        // No catalog before the first apply has given every member an address: try again.
        let catalog: ServiceCatalog
        while true {
            if let c = try? engine.services?.currentCatalog() { catalog = c; break }
            try await Task.sleep(for: .seconds(1))
        }
        let saved = Dictionary(((try? engine.store.backendHealth()) ?? []).map { ("\($0.probe.rawValue) \($0.subject)", $0) },
                               uniquingKeysWith: { a, _ in a })

        let runner = HealthCheckRunner(probe: probe) { [self] row in
            _ = save(row, detail: "\(row.subject): health check \(row.up ? "passes" : "fails"): \(row.reason)")
        }
        runner.start(catalog.entries.flatMap { e -> [MemberCheck] in
            guard let check = e.definition.healthCheck else { return [] }
            let spec = HealthCheckSpec(check, servicePort: e.definition.port)
            return e.members.map { m in
                let subject = BackendHealthRecord.checkSubject(service: e.name, member: m.personality)
                return MemberCheck(service: e.name, member: m.personality, address: m.backend, spec: spec,
                                   saved: saved["\(BackendHealthRecord.Probe.check.rawValue) \(subject)"])
            }
        })
        defer { runner.stop() }

        // backend address → "w1 (web), w1 (whoami)", for the events.
        let uses = catalog.entries.flatMap { e in e.members.map { ($0.backend, "\($0.personality) (\(e.name))") } }
        let membersAt = Dictionary(grouping: uses, by: \.0).mapValues { $0.map(\.1).joined(separator: ", ") }
        let state = WatchState(tracker: ReachabilityTracker(grace: Self.unansweredGrace),
                               saved: Dictionary(saved.values.filter { $0.probe == .heartbeat }.map { ($0.subject, $0) },
                                                 uniquingKeysWith: { a, _ in a }))
        // On a thread of its own, like the probers: a busy task pool must not delay a member's exit.
        let watch = PeriodicThread(name: "service backend reachability", period: Self.period) { [self] in
            let states = monitor.addressStates()
            let seen = Dictionary(uniqueKeysWithValues: membersAt.keys.map { ip in (ip, Self.observation(states[ip])) })
            for row in state.tracker.changes(seen, saved: state.saved, now: Date()) {
                let change = row.up ? "reachable" : "unreachable"
                // Unsaved, it stays a change: the next round tries again.
                if save(row, detail: "backend \(row.subject) of \(membersAt[row.subject] ?? "?") is \(change): \(row.reason)",
                        members: membersAt[row.subject] ?? "?") {
                    state.saved[row.subject] = row
                }
            }
        }
        defer { watch.stop() }
        while true { try await Task.sleep(for: .seconds(3600)) }   // until serve is cancelled
    }

    /// Saves one change with its event, then brings the service tables up to date (they follow
    /// what is saved). Returns whether it was saved.
    /// `members`: the personalities (and services) reached at the backend, for the log.
    private func save(_ row: BackendHealthRecord, detail: String, members: String? = nil) -> Bool {
        do {
            try engine.store.saveBackendHealth([row], events: [PlatformEvent(time: row.since, kind: .serviceHealth, detail: detail)])
        } catch {
            logger.error("saving a backend's health failed", metadata: ["backend": "\(row.subject)", "error": "\(error)"])
            return false
        }
        var metadata: Logger.Metadata = ["event": "\(PlatformEvent.Kind.serviceHealth.rawValue)", "backend": "\(row.subject)"]
        if let members { metadata["members"] = "\(members)" }
        logger.notice("\(detail)", metadata: metadata)
        engine.syncServices()
        return true
    }

    static func observation(_ address: DestinationEntry.Address?) -> ReachabilityTracker.Observation {
        guard let address else { return .unwatched }
        guard address.armed else { return .unanswered }
        return address.status == .unreachable ? .unreachable(misses: address.failures) : .reachable
    }
}

/// The reachability watch's memory; only its thread touches it.
private final class WatchState: @unchecked Sendable {
    var tracker: ReachabilityTracker
    /// Heartbeat rows by address, as saved.
    var saved: [String: BackendHealthRecord]
    init(tracker: ReachabilityTracker, saved: [String: BackendHealthRecord]) { self.tracker = tracker; self.saved = saved }
}

/// Runs `body` every `period` on a thread of its own until stopped.
final class PeriodicThread: @unchecked Sendable {
    private let condition = NSCondition()
    private var stopped = false

    init(name: String, period: Duration, _ body: @escaping @Sendable () -> Void) {
        let seconds = period.seconds
        let thread = Thread { [self] in
            while true {
                body()
                condition.lock()
                let next = Date().addingTimeInterval(seconds)
                while !stopped, Date() < next { _ = condition.wait(until: next) }
                let done = stopped
                condition.unlock()
                if done { return }
            }
        }
        thread.name = name
        thread.start()
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }
}
