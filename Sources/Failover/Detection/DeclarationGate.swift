import SystemSupport

/// Decides whether a processor whose heartbeats have all gone silent is declared failed now, or
/// whether the silence points somewhere else and must last longer first. Killing a healthy
/// processor is the worst thing a failover controller can do, so a heartbeat-only declaration
/// needs the silence to be the processor's own:
///
/// - The QEMU process is the second source: stopped (state T) or gone is declared at once, from
///   half the heartbeat threshold on; a guest whose threads wait for a CPU is starved, not hung,
///   and is declared only after `starvedLimit` of silence.
/// - The controller itself late (`LocalHealth`, Lifeguard's awareness): the silence must last
///   `multiplier` times the heartbeat threshold.
/// - Another processor on the same host fell silent in the same instant: a host or local event,
///   not N processor failures, and so is a replacement falling silent within `cascadeWindow` of
///   its move on the same host (the cascade seen under saturation): each needs `hostEventHold`
///   of silence. And heartbeat-only declarations on one host are spaced by `hostEventHold`.
///
/// Why: measured on these 2-core hosts, libvirt puts every guest in one cgroup (cpu,
/// `machine`, cpu.shares 1024: the weight of a single process at the root), so with the CPU
/// saturated all guests share one process's worth of CPU, and a busy one (booting, taking
/// hot-plugged NICs right after a move) starves its siblings in the same instant: their QEMU
/// threads sat runnable 300–450 ms at a stretch, and the silences crossed the threshold together.
///
/// Pure: the monitor gathers the facts; the gate remembers its own declarations per host.
public struct DeclarationGate: Sendable {
    public struct Settings: Sendable, Equatable {
        /// The shortest silence behind a heartbeat-only declaration (threshold − 1 intervals: a
        /// round's wait is part of the last one), scaled by the local-health multiplier.
        public var base: Duration
        /// Silence starts this close together are the same instant.
        public var sameInstant: Duration
        public var hostEventHold: Duration = .milliseconds(1500)
        /// A guest whose QEMU runs unhindered and does not answer: measured in the failover e2e
        /// tests, healthy guests were silent ~310 ms with their QEMU not waiting at all (0 ms in
        /// ~210 ms), and were declared at the threshold. A hung QEMU (SIGSTOP) is not held.
        public var runningHold: Duration = .seconds(1)
        /// A guest starved (in the last seconds) and silent this long is declared even so. The
        /// silences of starved guests that then answered, in the churn benchmark: 2.5 s, 3.7 s,
        /// 5.0 s, 5.3 s, and 20 s (its QEMU waited for a CPU 19730 ms in 19.9 s) on a host whose
        /// other work (six builds and test runs) took nearly all the CPU.
        public var starvedLimit: Duration = .seconds(120)
        public var cascadeWindow: Duration = .seconds(30)

        public init(heartbeat: HeartbeatSettings) {
            base = heartbeat.interval * (heartbeat.threshold - 1)
            sameInstant = heartbeat.interval * 2
        }
    }

    /// Everything known about one silent processor at the moment it is judged.
    public struct Suspicion: Sendable, Equatable {
        public var processor: String
        public var host: String
        public var silentFor: Duration
        public var evidence: ProcessEvidence
        /// Other processors on the same host whose silence began in the same instant as this one's.
        public var quietNeighbours: [String] = []
        /// Since it took over a personality from a processor on the same host; nil if it did not lately.
        public var arrivedAgo: Duration?
        public var localMultiplier = 1
        /// Every address has missed the heartbeat threshold; before that, only a stopped or gone
        /// QEMU is declared (it cannot answer: waiting for more misses only delays the move).
        public var pastThreshold = true

        public init(processor: String, host: String, silentFor: Duration, evidence: ProcessEvidence) {
            self.processor = processor; self.host = host; self.silentFor = silentFor; self.evidence = evidence
        }
    }

    public enum Verdict: Sendable, Equatable {
        case declare(reason: String)
        case hold(reason: String)
    }

    public let settings: Settings
    /// The last heartbeat-only declaration per host, for the cap.
    private var declaredAt: [String: ContinuousClock.Instant] = [:]

    public init(settings: Settings) { self.settings = settings }

    public mutating func judge(_ s: Suspicion, at now: ContinuousClock.Instant) -> Verdict {
        let silent = "silent \(Self.ms(s.silentFor))"
        switch s.evidence {
        case .gone: return .declare(reason: "\(silent) and its QEMU process is gone")
        case .stopped: return .declare(reason: "\(silent) and its QEMU process is stopped (state T)")
        default: break
        }
        guard s.pastThreshold else { return .hold(reason: "\(silent), the heartbeat threshold not reached yet") }
        var needed = settings.base * s.localMultiplier
        var why = s.localMultiplier > 1 ? ["this controller is late (timeouts x\(s.localMultiplier))"] : []
        func hold(_ d: Duration, _ reason: String) { needed = max(needed, d); why.append(reason) }
        // A guest kept waiting for a CPU cannot answer, and killing it does not make the host less
        // busy. Measured: even "only" 20–50 % of the silence waiting, guests stayed silent for
        // seconds with CPU time to spare (a TCG guest catching up on its timers), then answered.
        if case .starved(let waited, let over) = s.evidence {
            hold(settings.starvedLimit, "its QEMU is starved: it waited for a CPU \(Self.ms(waited)) in \(Self.ms(over))")
        }
        var running = false
        if case .running = s.evidence { needed = max(needed, settings.runningHold); running = true }
        if !s.quietNeighbours.isEmpty {
            hold(settings.hostEventHold, "\(s.quietNeighbours.joined(separator: ", ")) on \(s.host) fell silent in the same instant")
        }
        if let ago = s.arrivedAgo, ago < settings.cascadeWindow {
            hold(settings.hostEventHold, "it took its personality over on \(s.host) \(Self.ms(ago)) ago")
        }
        // The cap: one heartbeat-only declaration per host per `hostEventHold`, however long the silences.
        var spacing = Duration.zero
        if let last = declaredAt[s.host], now - last < settings.hostEventHold {
            spacing = settings.hostEventHold - (now - last)
            why.append("another processor on \(s.host) was declared by heartbeats \(Self.ms(now - last)) ago")
        }
        let context = why.isEmpty ? "" : " (" + why.joined(separator: "; ") + ")"
        guard s.silentFor >= needed, spacing == .zero else {
            let holding = (running ? ["its QEMU runs"] : []) + why
            let shown = holding.isEmpty ? "" : " (" + holding.joined(separator: "; ") + ")"
            return .hold(reason: "\(silent), not yet \(Self.ms(max(needed, s.silentFor + spacing)))\(shown)")
        }
        declaredAt[s.host] = now
        let process = switch s.evidence {
        case .running(let waited, let over): "; its QEMU ran, waiting for a CPU only \(Self.ms(waited)) in \(Self.ms(over))"
        case .starved: ""
        case .unknown(let why): "; \(why)"
        case .gone, .stopped: ""
        }
        return .declare(reason: "\(silent)\(process)\(context)")
    }

    static func ms(_ d: Duration) -> String { "\(Int(d.milliseconds.rounded())) ms" }
}
