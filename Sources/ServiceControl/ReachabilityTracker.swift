import Foundation
import StateStore

/// Turns what the heartbeat destination table knows about each member's backend address into
/// the heartbeat rows of `BackendHealthRecord` (only the changes). Pure.
///
/// - unreachable (past the heartbeat threshold) → down; reachable (answered, and back past the
///   recovery count) → up: the destination table's own hysteresis.
/// - watched but never answered → as last saved for `grace`, then down. The destination table
///   ignores the silence of an address that never answered (a NIC may still wait for its lease),
///   so without this a backend whose link was down when `serve` started would keep its share
///   forever: unknown is unsafe once the grace is over.
/// - not watched (its processor is failed, being moved away from, or carries nothing) → as last
///   saved: the processor's own state (the journal) decides its services then.
public struct ReachabilityTracker: Sendable {
    public enum Observation: Sendable, Equatable {
        case reachable
        case unreachable(misses: Int)
        case unanswered
        case unwatched
    }

    /// How long a watched address may stay silent before it counts as unreachable.
    public let grace: TimeInterval
    private var unansweredSince: [String: Date] = [:]

    public init(grace: TimeInterval) { self.grace = grace }

    /// - Parameters:
    ///   - seen: every backend address with what the destination table says of it now.
    ///   - saved: the heartbeat rows as saved (by address); no row means up.
    public mutating func changes(_ seen: [String: Observation], saved: [String: BackendHealthRecord],
                                 now: Date) -> [BackendHealthRecord] {
        var changed: [BackendHealthRecord] = []
        for (address, observation) in seen.sorted(by: { $0.key < $1.key }) {
            if observation == .unanswered { unansweredSince[address] = unansweredSince[address] ?? now }
            else { unansweredSince[address] = nil }
            let wasUp = saved[address]?.up ?? true
            func set(_ up: Bool, _ reason: String) {
                guard up != wasUp else { return }
                changed.append(BackendHealthRecord(probe: .heartbeat, subject: address, up: up, reason: reason, since: now))
            }
            switch observation {
            case .reachable:
                set(true, "answers heartbeats")
            case .unreachable(let misses):
                set(false, "\(misses) heartbeats in a row unanswered")
            case .unanswered:
                if let since = unansweredSince[address], now.timeIntervalSince(since) >= grace {
                    set(false, "no heartbeat reply in the \(Int(grace)) s since it was first watched")
                }
            case .unwatched:
                break
            }
        }
        return changed
    }
}
