import Foundation
import Synchronization

/// What to heartbeat: a processor that carries a personality, with the personality's addresses
/// in class-of-service order (primary first).
public struct HeartbeatTarget: Sendable, Equatable {
    public var processor: String
    public var addresses: [DestinationEntry.Address]
    public init(processor: String, addresses: [DestinationEntry.Address]) {
        self.processor = processor; self.addresses = addresses
    }
}

/// The destination address table in action: one prober per target, replaced when the target's
/// addresses change (after a failover), stopped when it leaves. Reports detections to `sink`;
/// a processor silent on every address is reported each round, and `judge` says whether to
/// declare it (see `DeclarationGate`).
public final class HeartbeatMonitor: Sendable {
    private let settings: HeartbeatSettings
    private let port: UInt16
    private let sink: @Sendable (Detection) -> Void
    private let ledger: SilenceLedger
    private let probers = Mutex<[String: HeartbeatProber]>([:])
    private let metrics: FailoverMetrics

    public init(settings: HeartbeatSettings, port: UInt16, scheduling: any SchedulingSource = ProcScheduling(),
                metrics: FailoverMetrics = .none, sink: @escaping @Sendable (Detection) -> Void) {
        self.settings = settings; self.port = port; self.sink = sink; self.metrics = metrics
        ledger = SilenceLedger(settings: settings, scheduling: scheduling)
    }

    deinit { stopAll() }

    public func update(_ targets: [HeartbeatTarget]) throws {
        try probers.withLock { probers in
            let wanted = Dictionary(targets.map { ($0.processor, $0) }, uniquingKeysWith: { a, _ in a })
            for (name, prober) in probers where wanted[name]?.addresses.map(\.ip) != prober.addresses.map(\.ip) {
                prober.stop()
                probers[name] = nil
                ledger.forget(name)
            }
            for target in targets where probers[target.processor] == nil {
                let entry = DestinationEntry(processor: target.processor, addresses: target.addresses, settings: settings)
                let prober = try HeartbeatProber(entry: entry, port: port, ledger: ledger,
                                                 rtt: metrics.heartbeatRTT(of: target.processor), sink: sink)
                probers[target.processor] = prober
                prober.start()
            }
        }
    }

    /// The processors every one of whose addresses has answered (whose silence is now judged).
    public var armed: Set<String> { probers.withLock { Set($0.filter { $0.value.isArmed }.keys) } }

    /// Whether a processor reported silent on every address is declared failed now. `hostOf`
    /// places every processor; `arrivedAgo` is how long ago it took over its personality from a
    /// processor on the same host (nil if it did not lately). `firstHold`: the first time this
    /// silence is held.
    public func judge(_ processor: String, hostOf: [String: String], arrivedAgo: Duration?)
        -> (verdict: DeclarationGate.Verdict, firstHold: Bool) {
        ledger.judge(processor, host: hostOf[processor] ?? "", hostOf: hostOf, arrivedAgo: arrivedAgo)
    }

    /// Every watched address's state in the destination table (by address), as of each
    /// processor's last round: what service health follows (`ServiceHealthFeed`).
    public func addressStates() -> [String: DestinationEntry.Address] {
        let all = probers.withLock { $0.values.flatMap(\.snapshot) }
        return Dictionary(all.map { ($0.ip, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// Forgets a processor's entry; the next `update` starts it afresh (unarmed until it answers).
    public func reset(_ processor: String) {
        probers.withLock { probers in
            probers.removeValue(forKey: processor)?.stop()
            ledger.forget(processor)
        }
    }

    public func stopAll() {
        probers.withLock { probers in
            probers.values.forEach { $0.stop() }
            probers.removeAll()
        }
    }
}
