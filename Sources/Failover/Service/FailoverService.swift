import AgentProtocol
import Foundation
import Hosts
import Logging
import PlatformModel
import ServiceLifecycle
import StateStore
import Synchronization
import SystemSupport

/// `vpctl serve`: watches every processor that carries a personality through two independent
/// detectors (libvirt events, multi-path heartbeats), declares failures, and drives each move to
/// the end with `FailoverEngine`. Holds the platform's service lock while it runs. The
/// definition can be reloaded while it runs (`reload`, SIGHUP under `serviceGroup`).
public final class FailoverService: Sendable {
    /// The engine of the definition in force: replaced by each good `reload`.
    public var engine: FailoverEngine { current.withLock { $0 } }
    let current: Mutex<FailoverEngine>
    /// The file `reload` reads (nil: the service was given a definition, not a file).
    let definitionFile: String?
    /// One reload at a time (SIGHUP and the API may ask together); the engine is not locked meanwhile.
    let reloading = Mutex(())
    /// Set by a reload: the watched processors are brought up to date at once.
    let watchesStale = Atomic(false)
    /// Called with each definition a reload puts in force (`followDefinition`).
    let definitionObservers = Mutex<[@Sendable (LoadedPlatform) -> Void]>([])
    public let heartbeat: HeartbeatSettings
    let logger: Logger
    /// Detections in arrival order, consumed by `run`.
    private let detections: AsyncStream<Detection>
    private let detected: AsyncStream<Detection>.Continuation
    /// Called with every declared failover (benchmarks and tests measure from it).
    private let onDeclared: @Sendable (FailoverRecord) -> Void

    public init(engine: FailoverEngine, logger: Logger, definitionFile: String? = nil,
                onDeclared: @escaping @Sendable (FailoverRecord) -> Void = { _ in }) {
        current = Mutex(engine)
        self.definitionFile = definitionFile
        let hb = engine.definition.failover?.heartbeat
        heartbeat = HeartbeatSettings(intervalMs: hb?.intervalMs, timeoutMs: hb?.timeoutMs, threshold: hb?.threshold)
        self.logger = logger
        self.onDeclared = onDeclared
        (detections, detected) = AsyncStream.makeStream(of: Detection.self)
    }

    var store: any PlatformStore { engine.store }

    /// Runs until the task is cancelled or, in a `ServiceGroup`, shut down gracefully (SIGTERM),
    /// then returns: in-flight steps finish, nothing is left half done that a restart would not finish.
    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await self.serve() }
        } catch is CancellationError {
        }
    }

    private func serve() async throws {
        let lock = try store.acquireServiceLock()
        defer { withExtendedLifetime(lock) {} }
        let sink: @Sendable (Detection) -> Void = { [detected] in detected.yield($0) }
        let monitor = HeartbeatMonitor(settings: heartbeat, port: engine.heartbeatPort, metrics: engine.metrics, sink: sink)
        defer { monitor.stopAll() }
        let processes = QEMUProcessWatcher(sink: sink)
        defer { processes.stop() }
        logger.info("serving platform", metadata: ["platform": "\(engine.definition.platform)",
                                                   "heartbeat.intervalMs": "\(heartbeat.interval.milliseconds)",
                                                   "heartbeat.threshold": "\(heartbeat.threshold)"])
        do { try store.record(PlatformEvent(kind: .service, detail: "vpctl serve started (pid \(getpid()))")) } catch {
            logger.error("the state store cannot be written; serving anyway, retrying", metadata: ["error": "\(error)"])
        }

        try await withThrowingTaskGroup(of: Void.self) { group in
            for host in engine.hosts.names {
                group.addTask { await self.watchHost(host, sink: sink) }
            }
            group.addTask { try await self.moveLoop(monitor: monitor, processes: processes) }
            group.addTask { try await self.declareLoop(monitor: monitor) }
            if engine.services != nil {
                group.addTask { try await ServiceHealthFeed(engine: self.engine, monitor: monitor, logger: self.logger).run() }
            }
            try await self.retrying("the start-up scan") { try await self.startupScan() }
            try await group.next()
            group.cancelAll()
        }
    }

    // MARK: Detection

    /// A processor that should run but does not, found when the service starts.
    private func startupScan() async throws {
        let view = try PlatformView(definition: engine.definition, store: store)
        for (_, processor) in view.bindings where !view.failed.contains(processor) {
            guard let host = view.hostOf[processor],
                  let status = (try? await engine.hosts.host(host).state(of: processor)) ?? nil else { continue }
            if status.state != .running {
                detected.yield(Detection(subject: processor, kind: .processorFailed(reason: "libvirt: \(status) at service start"),
                                         source: .libvirt))
            }
        }
    }

    private func watchHost(_ host: String, sink: @escaping @Sendable (Detection) -> Void) async {
        var lost = false
        while !Task.isCancelled {
            do {
                let events = try await engine.hosts.host(host).events()
                if lost { sink(Detection(subject: host, kind: .hostBack, source: .libvirt)); lost = false }
                await LifecycleWatcher.watch(host: host, events: events, sink: sink)
                if Task.isCancelled { return }
                lost = true
            } catch {
                if !lost { sink(Detection(subject: host, kind: .hostLost(reason: "\(error)"), source: .libvirt)) }
                lost = true
            }
            try? await Task.sleep(for: .seconds(2))
        }
    }

    /// A detection that could not be handled (the state store failed) is tried again, with
    /// backoff, until it is: dropped, it would never be declared (its detector reports it once).
    private func declareLoop(monitor: HeartbeatMonitor) async throws {
        var failures = RepeatingFailures<String>(firstRetry: .milliseconds(100), maxRetry: .seconds(10))
        for await d in detections {
            try Task.checkCancellation()
            let key = "\(d.subject) \(d.kind)"
            do {
                try await handle(d, monitor: monitor)
                failures.succeeded(key)
            } catch {
                let verdict = failures.failed(key, "\(error)", at: .now)
                if verdict.alert {
                    logger.error("handling a detection failed; retrying", metadata: ["subject": "\(d.subject)", "error": "\(error)",
                                                                                      "times": "\(verdict.times)"])
                    try? store.record(PlatformEvent(kind: .alert, processor: d.subject,
                                                    detail: "detection of \(d.subject) not recorded (\(error)); retrying"))
                }
                let again = detected
                Task { try? await Task.sleep(for: verdict.retryIn); again.yield(d) }
            }
        }
    }

    /// Runs `body` until it succeeds: a state store that fails does not end the service.
    private func retrying(_ what: String, _ body: () async throws -> Void) async throws {
        var failures = RepeatingFailures<String>()
        while true {
            do { return try await body() } catch is CancellationError { throw CancellationError() } catch {
                let verdict = failures.failed(what, "\(error)", at: .now)
                if verdict.alert { alert("\(what) failed: \(error); retrying", times: verdict.times) }
                try await Task.sleep(for: verdict.retryIn)
            }
        }
    }

    /// Logs and records an alert (the store may be what fails: then the log is all there is).
    func alert(_ detail: String, times: Int, processor: String? = nil, personality: String? = nil, logger: Logger? = nil) {
        (logger ?? self.logger).error("\(detail)", metadata: ["times": "\(times)"])
        let repeated = times > 1 ? " (failed \(times) times in a row)" : ""
        try? store.record(PlatformEvent(kind: .alert, processor: processor, personality: personality, detail: detail + repeated))
    }

    private func handle(_ d: Detection, monitor: HeartbeatMonitor) async throws {
        logger.debug("detection", metadata: ["subject": "\(d.subject)", "kind": "\(d.kind)", "source": "\(d.source.rawValue)",
                                             "ageMs": "\(Int(Date().timeIntervalSince(d.at) * 1000))"])
        switch d.kind {
        case .processorFailed(let reason):
            let view = try PlatformView(definition: engine.definition, store: store)
            guard let personality = view.personality(on: d.subject), !view.failed.contains(d.subject),
                  let host = view.hostOf[d.subject] else { return }
            if view.maintenance.contains(d.subject) {
                // An apply is restarting it on purpose: not a failure. Heartbeats start afresh.
                monitor.reset(d.subject)
                try note(.detection, d, "\(d.subject) is down during maintenance (vpctl apply); not a failure: \(reason)")
                return
            }
            if d.source == .libvirt,
               let status = (try? await engine.hosts.host(host).state(of: d.subject)) ?? nil, status.state == .running {
                // Stopped and already started again: not a failure.
                monitor.reset(d.subject)
                return
            }
            var reason = reason
            if d.source == .heartbeat {
                // Silence alone: the declaration gate decides whether it is this processor's (the
                // QEMU's threads, the controller's own lateness, its neighbours, a recent move).
                let arrival = try store.failovers(last: 20).last { $0.target == d.subject && $0.targetHost == $0.sourceHost }
                let judged = monitor.judge(d.subject, hostOf: view.hostOf,
                                           arrivedAgo: arrival.map { .seconds(Date().timeIntervalSince($0.updatedAt)) })
                switch judged.verdict {
                case .hold(let why):
                    if judged.firstHold {
                        engine.metrics.heldSilence()
                        logger.notice("silent, not declared yet", metadata: ["processor": "\(d.subject)", "why": "\(why)"])
                    }
                    return
                case .declare(let why): reason += "; " + why
                }
            }
            let record = FailoverRecord(personality: personality, source: d.subject, sourceHost: host, planned: false,
                                        reason: "\(d.source.rawValue): \(reason)", detectedAt: d.at)
            let event = PlatformEvent(time: d.at, kind: .detection, processor: d.subject, personality: personality,
                                      detail: "\(d.subject) declared failed (\(d.source.rawValue)): \(reason)",
                                      durationMs: Date().timeIntervalSince(d.at) * 1000)
            guard let declared = try store.declare(record, event: event) else { return }
            engine.metrics.declared(by: d.source)
            // Out of its services before anything else: new flows go to healthy members at once.
            engine.syncServices()
            logger.warning("processor declared failed", metadata: ["move": "\(declared.id ?? 0)", "processor": "\(d.subject)",
                                                                   "personality": "\(personality)",
                                                                   "source": "\(d.source.rawValue)", "reason": "\(reason)"])
            onDeclared(declared)
        case .adapterUnreachable(let vlan, let ip):
            try note(.adapterUnreachable, d, "\(d.subject): adapter on \(vlan) (\(ip)) is unreachable; the processor is still served on its other addresses")
        case .adapterReachable(let vlan, let ip):
            try note(.adapterReachable, d, "\(d.subject): adapter on \(vlan) (\(ip)) is reachable again")
        case .hostLost(let reason):
            try note(.hostLost, d, "host \(d.subject) lost: \(reason); its processors are suspect, heartbeats decide")
        case .hostBack:
            try note(.hostBack, d, "host \(d.subject) reachable again")
        }
    }

    private func note(_ kind: PlatformEvent.Kind, _ d: Detection, _ detail: String) throws {
        // The subject is a processor, or a host for host events.
        let subject = kind == .hostLost || kind == .hostBack ? "host" : "processor"
        logger.notice("\(detail)", metadata: ["event": "\(kind.rawValue)", subject: "\(d.subject)"])
        try store.record(PlatformEvent(time: d.at, kind: kind, processor: d.subject, detail: detail))
    }

    // MARK: Moving

    /// Carries every unfinished move forward, interleaved so one move waiting for a booting
    /// standby does not hold up another; keeps the heartbeat targets in step with the bindings.
    /// Nothing here ends the service: a store that cannot be read, a step that fails, are retried
    /// with backoff and alerted once, then less and less often (and again when the error changes).
    private func moveLoop(monitor: HeartbeatMonitor, processes: QEMUProcessWatcher) async throws {
        var lastRefresh = ContinuousClock.now - .seconds(10)
        var targetsChanged = true
        // Moves that wait for something slow (a standby, an administrator) are retried each second.
        var retryAt: [Int64: ContinuousClock.Instant] = [:]
        var failures = RepeatingFailures<String>()
        var watched = ""
        var sampler = ServiceMetricsSampler(store: store)
        while !Task.isCancelled {
            let moving: [FailoverRecord]
            do {
                moving = try store.unfinishedFailovers()
                failures.succeeded("store")
            } catch {
                let verdict = failures.failed("store", "\(error)", at: .now)
                if verdict.alert { alert("the state store cannot be read: \(error); vpctl serve keeps retrying", times: verdict.times) }
                try await Task.sleep(for: verdict.retryIn)
                continue
            }
            failures.keep(only: Set(moving.compactMap { $0.id.map { "move \($0)" } } + ["store", "refresh"]))
            for record in moving {
                guard let id = record.id, retryAt[id].map({ $0 <= ContinuousClock.now }) ?? true else { continue }
                retryAt[id] = nil
                // Every line about this move says which move, which processor and which personality.
                var logger = self.logger
                logger[metadataKey: "move"] = "\(id)"
                logger[metadataKey: "processor"] = "\(record.source)"
                logger[metadataKey: "personality"] = "\(record.personality)"
                do {
                    let before = record.step
                    let progress = try await engine.run(id)
                    failures.succeeded("move \(id)")
                    let moved = try store.failover(id: id)
                    let now = moved?.step
                    if let now, now != before {
                        logger.info("failover step", metadata: ["step": "\(now.rawValue)", "from": "\(before.rawValue)",
                                                                "target": "\(moved?.target ?? "-")"])
                    }
                    if progress == .finished || now != before { targetsChanged = true }
                    if case .waiting(let why) = progress {
                        if now != .announced { retryAt[id] = ContinuousClock.now + .seconds(1) }
                        if before != now { logger.notice("failover waits", metadata: ["personality": "\(record.personality)", "why": "\(why)"]) }
                    }
                    if progress == .finished {
                        logger.notice("failover done", metadata: ["personality": "\(record.personality)", "to": "\(record.target ?? "?")"])
                    }
                } catch is CancellationError {
                    throw CancellationError()
                } catch {
                    let verdict = failures.failed("move \(id)", "\(error)", at: .now)
                    if verdict.alert {
                        // `run` may have advanced several steps before one failed: name the step it stopped at.
                        let at = (try? store.failover(id: id))??.step ?? record.step
                        alert("step after \(at.rawValue) failed: \(error); retrying", times: verdict.times,
                              processor: record.source, personality: record.personality, logger: logger)
                    }
                    retryAt[id] = ContinuousClock.now + verdict.retryIn
                }
            }
            if watchesStale.exchange(false, ordering: .relaxed) { targetsChanged = true }
            if targetsChanged || ContinuousClock.now - lastRefresh > .seconds(1) {
                do {
                    try refreshWatches(monitor: monitor, processes: processes, told: &watched)
                    // Metrics read the same store as the refresh: its failures are alerted there.
                    try? sampler.sample(engine)
                    failures.succeeded("refresh")
                    targetsChanged = false
                } catch {
                    let verdict = failures.failed("refresh", "\(error)", at: .now)
                    if verdict.alert { alert("the watched processors could not be updated: \(error); retrying", times: verdict.times) }
                }
                lastRefresh = ContinuousClock.now
            }
            // Woken at once by a change this process commits (a declaration, a planned move or an
            // abort through the API); other processes' changes are found by looking twice a second.
            // Reading the store every 50 ms was a third of an idle daemon's CPU (vp-bench daemon-idle).
            if moving.isEmpty { await store.changes.wait(upTo: .milliseconds(500)) } else { try await Task.sleep(for: .milliseconds(20)) }
            try Task.checkCancellation()
        }
    }

    /// Heartbeats and the QEMU watch follow the carriers that are not failed or being moved away
    /// from. What is watched is recorded as an event whenever it changes (`told`): it says from
    /// when a failure of each processor is caught.
    private func refreshWatches(monitor: HeartbeatMonitor, processes: QEMUProcessWatcher, told: inout String) throws {
        let view = try PlatformView(definition: engine.definition, store: store)
        let sources = Set(try store.unfinishedFailovers().map(\.source))
        let targets = view.heartbeatTargets(excluding: sources)
        try monitor.update(targets)
        if let why = ThreadPriority.failureNotReported() {
            logger.warning("heartbeats run at normal priority: under CPU saturation a hung processor is declared later",
                           metadata: ["cause": "\(why)"])
        }
        let local = targets.map(\.processor).filter { name in view.hostOf[name].map(engine.hosts.isLocal) ?? false }
        processes.update(local)
        engine.syncServices()
        logger.debug("watching", metadata: ["heartbeat": "\(targets.map(\.processor))", "qemu": "\(processes.watching)"])
        let now = "watching: heartbeats armed for [\(monitor.armed.sorted().joined(separator: ", "))]; "
            + "QEMU process watched for [\(processes.watching.joined(separator: ", "))]"
        if now != told {
            try store.record(PlatformEvent(kind: .service, detail: now))
            told = now
        }
    }
}
