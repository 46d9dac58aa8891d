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
/// addresses change (after a failover), stopped when it leaves. Reports detections to `sink`.
public final class HeartbeatMonitor: Sendable {
    private let settings: HeartbeatSettings
    private let port: UInt16
    private let sink: @Sendable (Detection) -> Void
    private let probers = Mutex<[String: HeartbeatProber]>([:])

    public init(settings: HeartbeatSettings, port: UInt16, sink: @escaping @Sendable (Detection) -> Void) {
        self.settings = settings; self.port = port; self.sink = sink
    }

    deinit { stopAll() }

    public func update(_ targets: [HeartbeatTarget]) throws {
        try probers.withLock { probers in
            let wanted = Dictionary(targets.map { ($0.processor, $0) }, uniquingKeysWith: { a, _ in a })
            for (name, prober) in probers where wanted[name]?.addresses.map(\.ip) != prober.addresses.map(\.ip) {
                prober.stop()
                probers[name] = nil
            }
            for target in targets where probers[target.processor] == nil {
                let entry = DestinationEntry(processor: target.processor, addresses: target.addresses, settings: settings)
                let sink = self.sink
                let prober = try HeartbeatProber(entry: entry, port: port) { processor, events, at in
                    for event in events {
                        switch event {
                        case .processorFailed(let reason):
                            sink(Detection(subject: processor, kind: .processorFailed(reason: reason), source: .heartbeat, at: at))
                        case .adapterUnreachable(let vlan, let ip, _):
                            sink(Detection(subject: processor, kind: .adapterUnreachable(vlan: vlan, ip: ip), source: .heartbeat, at: at))
                        case .adapterReachable(let vlan, let ip):
                            sink(Detection(subject: processor, kind: .adapterReachable(vlan: vlan, ip: ip), source: .heartbeat, at: at))
                        }
                    }
                }
                probers[target.processor] = prober
                prober.start()
            }
        }
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
        }
    }

    public func stopAll() {
        probers.withLock { probers in
            probers.values.forEach { $0.stop() }
            probers.removeAll()
        }
    }
}
