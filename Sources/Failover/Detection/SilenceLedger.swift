import Synchronization

/// What the probers hear, for the declaration gate: when each silent processor last answered, a
/// look at its QEMU's threads taken as its silence began, and the controller's own lateness.
/// Probers write it from their threads; the service asks it to judge a silent processor.
final class SilenceLedger: Sendable {
    private struct Silence {
        var since: ContinuousClock.Instant
        /// The look its QEMU is compared with, and the next one: once rolling, the comparison
        /// covers the last `window` to 2 × `window`, so a guest that was starved and now hangs is
        /// seen running.
        var baseline: ProcessSchedule?
        var next: ProcessSchedule?
        /// Every address has reached the heartbeat threshold.
        var pastThreshold = false
        var held = false
        /// A report of this silence is on its way to the service and not judged yet.
        var reportedAt: ContinuousClock.Instant?
    }
    private struct State {
        var silences: [String: Silence] = [:]
        var health: LocalHealth
        var gate: DeclarationGate
    }
    private let scheduling: any SchedulingSource
    private let state: Mutex<State>

    init(settings: HeartbeatSettings, scheduling: any SchedulingSource) {
        self.scheduling = scheduling
        state = Mutex(State(health: LocalHealth(interval: settings.interval),
                            gate: DeclarationGate(settings: DeclarationGate.Settings(heartbeat: settings))))
    }

    /// A round without any reply from `processor`, whose last reply came at `since`. The first
    /// such round of a silence takes the look at its QEMU that later ones are compared with.
    func silent(_ processor: String, since: ContinuousClock.Instant, pastThreshold: Bool) {
        let known = state.withLock { s in
            s.silences[processor]?.pastThreshold = pastThreshold
            return s.silences[processor] != nil
        }
        guard !known else { return }
        let baseline = scheduling.qemuPid(of: processor).flatMap(scheduling.schedule(of:))
        state.withLock { s in
            if s.silences[processor] == nil {
                s.silences[processor] = Silence(since: since, baseline: baseline, pastThreshold: pastThreshold)
            }
        }
    }

    /// Whether the prober should report `processor` silent now: not while an earlier report
    /// waits to be judged (a loaded service would fall behind a report per round per processor
    /// and judge a stopped QEMU seconds late), unless that report is older than `reportAgain`
    /// (the service may have dropped it).
    func shouldReport(_ processor: String, at now: ContinuousClock.Instant = .now) -> Bool {
        state.withLock { s in
            guard s.silences[processor] != nil else { return false }
            if let at = s.silences[processor]?.reportedAt, now - at < Self.reportAgain { return false }
            s.silences[processor]?.reportedAt = now
            return true
        }
    }
    static let reportAgain: Duration = .seconds(1)
    static let window: Duration = .seconds(1)

    func answered(_ processor: String) { state.withLock { _ = $0.silences.removeValue(forKey: processor) } }

    /// A prober round that began or ended `late`.
    func round(late: Duration, at: ContinuousClock.Instant = .now) { state.withLock { $0.health.round(late: late, at: at) } }

    /// Judges a processor reported silent on every address. `hostOf` places the processors;
    /// `arrivedAgo` is how long ago it took over a personality from a processor on its own host.
    /// Also says whether this is the first hold of this silence (worth a log line).
    func judge(_ processor: String, host: String, hostOf: [String: String], arrivedAgo: Duration?,
               at now: ContinuousClock.Instant = .now) -> (verdict: DeclarationGate.Verdict, firstHold: Bool) {
        guard let baseline = state.withLock({ $0.silences[processor].map { $0.baseline } }) else {
            return (.hold(reason: "it answered again"), false)
        }
        let current = (baseline?.pid ?? scheduling.qemuPid(of: processor)).flatMap(scheduling.schedule(of:))
        let evidence = ProcessEvidence.between(baseline, current)
        return state.withLock { s in
            guard let silence = s.silences[processor] else { return (.hold(reason: "it answered again"), false) }
            s.silences[processor]?.reportedAt = nil
            if let current, let newest = silence.next ?? baseline, current.at - newest.at >= Self.window {
                if silence.next != nil { s.silences[processor]?.baseline = silence.next }
                s.silences[processor]?.next = current
            }
            var suspicion = DeclarationGate.Suspicion(processor: processor, host: host, silentFor: now - silence.since, evidence: evidence)
            suspicion.quietNeighbours = s.silences.filter { name, other in
                name != processor && hostOf[name] == host && abs(other.since - silence.since) <= s.gate.settings.sameInstant
            }.keys.sorted()
            suspicion.arrivedAgo = arrivedAgo
            suspicion.localMultiplier = s.health.multiplier(at: now)
            suspicion.pastThreshold = silence.pastThreshold
            let verdict = s.gate.judge(suspicion, at: now)
            guard case .hold = verdict, silence.pastThreshold else { return (verdict, false) }
            defer { s.silences[processor]?.held = true }
            return (verdict, !silence.held)
        }
    }

    func forget(_ processor: String) { answered(processor) }
}

private func abs(_ d: Duration) -> Duration { d < .zero ? .zero - d : d }
