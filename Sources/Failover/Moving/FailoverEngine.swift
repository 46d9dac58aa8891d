import AgentProtocol
import Foundation
import Hosts
import PlatformModel
import PlatformRender
import Reconciler
import ServiceControl
import StateStore
import Synchronization
import SystemSupport

/// Moves a personality from one processor to another as a journaled state machine. Every call
/// to `advance` takes the platform lock, re-reads the record from the state store, performs the
/// next step, and saves the new step: so any number of engines (a restarted `vpctl serve`, a
/// `vpctl failover` beside it) can carry a move on, and every step is safe to repeat.
public final class FailoverEngine: Sendable {
    public enum Progress: Sendable, Equatable {
        case advanced(FailoverStep)
        /// Nothing more can happen now (no standby, fence unconfirmed, target still booting).
        case waiting(String)
        case finished
    }

    public let definition: PlatformDefinition
    public let store: any PlatformStore
    public let hosts: PlatformHosts
    /// How long the target may take to answer on every address: halfway its NICs are re-plugged
    /// once, at the end it is given up for another standby (`failover.confirmTimeoutSeconds`).
    public let confirmTimeout: Duration
    public let heartbeatPort: UInt16
    /// A pause after each step: slow motion for demonstrations and for tests that interrupt a move.
    public let stepDelay: Duration

    /// Keeps the service IPs' kernel tables in step with each move (nil: the platform has none).
    public let services: ServiceController?
    /// How long a planned move waits for established service connections to finish.
    public let drainTimeout: Duration
    /// Which spares can take a personality now.
    public let standbys: any StandbyProbe
    /// Whether a moved personality answers on its addresses.
    public let answers: any AnswerProbe
    /// The one writer of the personality's devices: the engine decides, the executor applies.
    public let executor: DeviceExecutor
    /// Each step's duration (`vp_move_step_seconds`), and what the service counts.
    public let metrics: FailoverMetrics

    /// Fails when the platform has service IPs and this host has no nftables.
    public init(definition: PlatformDefinition, store: any PlatformStore, hosts: PlatformHosts, heartbeatPort: UInt16 = AgentPorts.heartbeat,
                stepDelay: Duration = .zero, standbys: (any StandbyProbe)? = nil, answers: any AnswerProbe = HeartbeatAnswerProbe(),
                metrics: FailoverMetrics = .none) throws {
        self.definition = definition; self.store = store; self.hosts = hosts; self.heartbeatPort = heartbeatPort
        self.stepDelay = stepDelay
        self.metrics = metrics
        self.answers = answers
        executor = DeviceExecutor(platform: definition.platform)
        self.standbys = standbys ?? LibvirtStandbyProbe(hosts: hosts, platform: definition.platform)
        confirmTimeout = .seconds(definition.failover?.confirmTimeoutSeconds ?? 60)
        drainTimeout = .seconds(definition.failover?.drainTimeoutSeconds ?? 10)
        services = definition.services?.isEmpty == false ? try ServiceController(definition: definition, store: store) : nil
    }

    /// Brings the service tables up to date with the journal; a failure is recorded as an alert
    /// (the service loop retries every second) rather than failing the move.
    public func syncServices() {
        guard let services else { return }
        do {
            try services.sync()
            serviceFailures.withLock { $0.succeeded("sync") }
        } catch {
            // Retried at every sync; alerted once, then with backoff (and when the error changes).
            let verdict = serviceFailures.withLock { $0.failed("sync", "\(error)", at: .now) }
            guard verdict.alert else { return }
            let repeated = verdict.times > 1 ? " (failed \(verdict.times) times in a row)" : ""
            try? store.record(PlatformEvent(kind: .alert, detail: "service IP tables not updated: \(error); retrying\(repeated)"))
        }
    }
    private let serviceFailures = Mutex(RepeatingFailures<String>())

    /// Advances the move until it finishes or has to wait.
    public func run(_ id: Int64) async throws -> Progress {
        while true {
            let progress = try await advance(id)
            if case .advanced = progress {
                if stepDelay > .zero { try await Task.sleep(for: stepDelay) }
                continue
            }
            return progress
        }
    }

    /// Performs one step of move `id`.
    public func advance(_ id: Int64) async throws -> Progress {
        try await store.exclusively {
            guard let record = try store.failover(id: id) else { throw PlatformError(.notFound, "move #\(id)", "no such move") }
            let started = ContinuousClock.now
            func done(_ step: FailoverStep, _ detail: String, rebind: Bool = false, _ r: FailoverRecord = record) throws -> Progress {
                let ms = (ContinuousClock.now - started).milliseconds
                try store.advance(r, to: step, event: PlatformEvent(kind: .step, processor: r.source, personality: r.personality,
                                                                      detail: "\(step.rawValue): \(detail)", durationMs: ms),
                                  rebind: rebind)
                metrics.stepTook(step.rawValue, .milliseconds(ms))
                // Counted here, where the move ends, whoever carried it (serve's loop, or the admin
                // API's planned move, which reaches `done` in its own call).
                if step == .done { metrics.moveEnded(step.rawValue) }
                // Health follows the journal (out from `declared`, back at `answered`); unchanged health costs nothing.
                syncServices()
                return step == .done ? .finished : .advanced(step)
            }
            if record.step.isFinished { return .finished }
            let view = try PlatformView(definition: definition, store: store)
            guard let devices = view.devices[record.personality] else {
                throw PlatformError(.notFound, "personality '\(record.personality)'", "not in the platform definition")
            }
            if let who = record.abortRequestedBy, record.step < .answered {
                return try await abort(record, by: who, devices: devices)
            }
            if let why = await targetDied(record), let target = record.target {
                // A new detection: the move goes back to choosing, with this target failed.
                return try await giveUp(record, devices: devices, markFailed: true, kind: .detection,
                                        because: "\(target), taking \(record.personality), died: \(why)")
            }
            switch record.step {
            case .declared, .down:
                return try await chooseTarget(record, view: view, done: done)
            case .standbyChosen, .awaitingFence:
                if record.planned, record.step == .standbyChosen, let waiting = try drain(record) { return waiting }
                let fence = await (try? hosts.host(record.sourceHost))?.fence(record.source, planned: record.planned)
                    ?? .unconfirmed("host \(record.sourceHost) is unknown")
                // A fence cut short by a shutdown proves nothing and is not recorded: the next engine fences again.
                try Task.checkCancellation()
                switch fence {
                case .off(let how):
                    return try done(.fenced, "\(record.source) is off (\(how))")
                case .unconfirmed(let why):
                    if let who = record.fenceConfirmedBy { return try done(.fenced, "\(record.source): \(why); \(who) vouched that it is off") }
                    if record.step != .awaitingFence {
                        try store.advance(record, to: .awaitingFence, event: PlatformEvent(
                            kind: .alert, processor: record.source, personality: record.personality,
                            detail: "cannot confirm \(record.source) is off: \(why). Its volumes and MACs stay where they are. Once it is off, run: vpctl fence \(record.source) --confirm"))
                    }
                    return .waiting("fence of \(record.source) unconfirmed: \(why)")
                }
            case .fenced:
                guard let target = record.target, let targetHost = record.targetHost else { throw PlatformError(.internal, "move #\(id)", "it has no target") }
                // Nobody else may hold what the target is given, on any host (the fenced source aside).
                try await DeviceGuard.check(nics: devices.interfaces, disks: devices.disks, receiver: target, receiverHost: targetHost,
                                            fenced: (record.source, record.sourceHost), hosts: hosts)
                let how = try await executor.attach(devices, personality: record.personality, to: target, on: try hosts.host(targetHost))
                return try done(.attached, "\(devices.nics.count) NICs and \(devices.disks.count) disks on \(target) (\(how.description))",
                                rebind: true)
            case .attached:
                guard let target = record.target, let targetHost = record.targetHost else { throw PlatformError(.internal, "move #\(id)", "it has no target") }
                try await hosts.host(targetHost).announce(target)
                return try done(.announced, "\(target) announced \(devices.nics.map(\.spec.mac).joined(separator: ", "))")
            case .announced:
                return try await confirm(record, devices: devices, view: view, done: done)
            case .answered:
                try await executor.detach(devices, from: record.source, on: try hosts.host(record.sourceHost))
                let result = try done(.done, "\(devices.nics.count) NICs and \(devices.disks.count) disks removed from \(record.source)'s definition")
                if record.planned { try await returnToPool(record.source, host: record.sourceHost, view: view) }
                return result
            case .done, .aborted:
                return .finished
            }
        }
    }

    /// A planned move stops its source only once the service connections to it have finished (it
    /// left the services' tables when the move began), or the drain time is up.
    private func drain(_ record: FailoverRecord) throws -> Progress? {
        guard let services, services.serves(record.personality) else { return nil }
        syncServices()
        let open = try services.establishedFlows(of: record.personality)
        let waited = Date().timeIntervalSince(record.declaredAt)
        guard open > 0, waited < Double(drainTimeout.components.seconds) else { return nil }
        return .waiting("draining: \(open) service connection\(open == 1 ? "" : "s") to \(record.personality) still open (\(Int(waited)) s of \(drainTimeout.components.seconds) s)")
    }

    private func chooseTarget(_ record: FailoverRecord, view: PlatformView,
                              done: (FailoverStep, String, Bool, FailoverRecord) throws -> Progress) async throws -> Progress {
        var r = record
        let person = record.personality
        if let wanted = record.target {
            // `vpctl failover --to`: the administrator's choice, checked like any standby (its
            // reservation was checked with the declaration and is checked again when saved).
            guard let host = view.hostOf[wanted] else { throw PlatformError(.notFound, "processor '\(wanted)'", "not in the platform definition") }
            switch await standbys.readiness(of: wanted, host: host) {
            case .running, .off: break
            case .booting: return .waiting("\(wanted) is still booting; \(person) moves there once its agent is ready")
            case .unusable: throw PlatformError(.conflict, "processor '\(wanted)'", "neither running nor shut off; it cannot take \(person)")
            }
            r.targetHost = host
            return try done(.standbyChosen, "\(wanted) on \(host), chosen by the administrator", false, r)
        }
        // Every unfinished move's source and target are reserved until it ends: a planned move's
        // source still has the personality's devices in its definition, a target is being given them.
        let others = try store.unfinishedFailovers().filter { $0.id != record.id }
        let reserved = Set(others.flatMap { [$0.source] + ($0.target.map { [$0] } ?? []) })
        var readiness: [String: StandbyChooser.Readiness] = [:]
        // Only spares are asked: a query about the dying source would wait for libvirt's clean-up.
        for (_, name) in StandbyChooser.spares(in: view, from: record.source, reserved: reserved) {
            if let host = view.hostOf[name] { readiness[name] = await standbys.readiness(of: name, host: host) }
        }
        guard let choice = StandbyChooser.choose(in: view, from: record.source, readiness: readiness, reserved: reserved) else {
            let booting = readiness.filter { $0.value == .booting }.keys.sorted()
            // A standby that boots is worth waiting for, within the bound a target gets to answer.
            if !booting.isEmpty, Date().timeIntervalSince(record.updatedAt) < confirmTimeout.seconds {
                return .waiting("no standby is ready yet for \(person): \(booting.joined(separator: ", ")) still booting")
            }
            if record.step != .down {
                try store.advance(record, to: .down, event: PlatformEvent(
                    kind: .alert, processor: record.source, personality: person,
                    detail: "personality \(person) is DOWN: no standby is free. Nothing was touched. Repair a processor (vpctl repair <processor>) or add one (vpctl apply); the move resumes by itself."))
            }
            return .waiting("no standby for \(person)")
        }
        r.target = choice.processor
        r.targetHost = choice.host
        return try done(.standbyChosen, "\(choice.processor) on \(choice.host) (\(choice.hot ? "hot" : "cold") standby)", false, r)
    }

    /// After a planned move the healthy source is a spare again: started clean if standbys are hot.
    private func returnToPool(_ name: String, host: String, view: PlatformView) async throws {
        let host = try hosts.host(host)
        guard view.hotStandbys, let state = try await host.state(of: name), !state.isActive else { return }
        try await host.start(name)
        try store.record(PlatformEvent(kind: .repair, processor: name, detail: "\(name) is a hot standby again (started with no personality)"))
    }
}
