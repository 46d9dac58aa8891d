import Foundation
import PlatformModel
import SystemSupport

/// The steps of moving a personality from one processor to another, in order. Each step names
/// what has been done; the failover engine performs the next one.
public enum FailoverStep: String, StrictWords, Sendable, Comparable {
    /// The source is declared failed (or a planned move was asked for).
    case declared
    /// No standby was free: nothing is touched; retried when one appears.
    case down
    /// A target processor is reserved.
    case standbyChosen = "standby-chosen"
    /// The source could not be confirmed off: waits for `vpctl fence --confirm`.
    case awaitingFence = "awaiting-fence"
    /// The source is confirmed off: nothing can write its volumes or send from its MACs, and its
    /// NICs have left every VLAN (a stopped QEMU's tap devices are gone).
    case fenced
    /// The personality's NICs and disks are on the target (and the target runs).
    case attached
    /// The target's NICs announced their MACs (QEMU announce-self).
    case announced
    /// Heartbeats answered on every address of the personality: it is served again.
    case answered
    /// The personality's NICs and disks are removed from the source's definition too (done after
    /// the personality answers: libvirt holds a dead domain for ~1.5 s of clean-up here).
    case done
    /// Ended by `vpctl failover --abort` before the source was fenced: the personality stayed
    /// where it was. (An abort after the fence gives the target up and goes back to choosing.)
    case aborted

    public var isFinished: Bool { Self.finished.contains(self) }
    public static let finished: [FailoverStep] = [.done, .aborted]
    private var order: Int { Self.allCases.firstIndex(of: self)! }
    public static func < (a: Self, b: Self) -> Bool { a.order < b.order }
}

/// One move of a personality, as kept in the state store: the failover engine's only memory,
/// re-read before every step so that a restarted (or a second) engine carries on where it stopped.
public struct FailoverRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var personality: String
    /// The processor the personality leaves.
    public var source: String
    public var sourceHost: String
    /// The processor that takes it (set when a standby is chosen, or by `--to`).
    public var target: String?
    public var targetHost: String?
    public var step: FailoverStep
    /// An administrator's move of a healthy processor (`vpctl failover`), not a failure.
    public var planned: Bool
    public var reason: String
    /// When the failure was first noticed (the detection's own time stamp).
    public var detectedAt: Date
    public var declaredAt: Date
    public var updatedAt: Date
    /// Who vouched that the source is off when libvirt could not confirm it.
    public var fenceConfirmedBy: String?
    /// When the source was confirmed off: from then on the personality cannot stay where it was.
    public var fencedAt: Date?
    /// When the silent target's NICs were re-plugged (once per target).
    public var replugAt: Date?
    /// Who asked for `vpctl failover --abort`; the engine carries the abort out at its next step.
    public var abortRequestedBy: String?

    public init(personality: String, source: String, sourceHost: String, target: String? = nil, targetHost: String? = nil,
                planned: Bool, reason: String, detectedAt: Date, declaredAt: Date = Date()) {
        self.personality = personality; self.source = source; self.sourceHost = sourceHost
        self.target = target; self.targetHost = targetHost; self.step = .declared; self.planned = planned
        self.reason = reason; self.detectedAt = detectedAt; self.declaredAt = declaredAt; self.updatedAt = declaredAt
    }

}

/// What the platform knows about a processor beyond libvirt: `failed` until repaired;
/// `maintenance` while an apply stops or restarts it (so `vpctl serve` does not take that for a failure).
public struct ProcessorState: Codable, Sendable, Equatable {
    public enum State: String, StrictWords, Sendable { case failed, maintenance }
    public var processor: String
    public var state: State
    public var reason: String
    public var since: Date
    public init(processor: String, state: State, reason: String, since: Date = Date()) {
        self.processor = processor; self.state = state; self.reason = reason; self.since = since
    }
}

/// Something `vpctl events` shows: a detection, an adapter's change of state, a failover step
/// (with how long it took), an alert.
public struct PlatformEvent: Codable, Sendable, Equatable {
    public enum Kind: String, StrictWords, Sendable {
        case detection, adapterUnreachable = "adapter-unreachable", adapterReachable = "adapter-reachable"
        case hostLost = "host-lost", hostBack = "host-back", step, alert, repair, service
        /// A service IP's lookup table changed in the kernel.
        case serviceTable = "service-table"
        /// A service member's backend changed health (heartbeat reachability, health check).
        case serviceHealth = "service-health"
    }
    public var id: Int64?
    public var time: Date
    public var kind: Kind
    public var processor: String?
    public var personality: String?
    public var detail: String
    public var durationMs: Double?

    public init(time: Date = Date(), kind: Kind, processor: String? = nil, personality: String? = nil, detail: String,
                durationMs: Double? = nil) {
        self.time = time; self.kind = kind; self.processor = processor; self.personality = personality
        self.detail = detail; self.durationMs = durationMs
    }

}

/// A move that would give a processor a personality it cannot take; nothing was changed.
public struct MoveRefused: KindedError, Sendable, Equatable {
    /// The processor's state forbids the move now.
    public var kind: ErrorKind { .conflict }
    public var object: String? { "processor '\(processor)'" }
    public let processor: String
    public let cause: String
    public init(processor: String, cause: String) { self.processor = processor; self.cause = cause }
    public var description: String { "processor '\(processor)' cannot take the personality: \(cause); nothing was changed" }
}
