/// The controller's own health, the way hashicorp/memberlist's Lifeguard "awareness" keeps it:
/// a probe loop that cannot keep its own timing cannot trust the silence it hears. Every prober
/// round that starts or finishes late by a quarter of the interval or more raises the score by
/// one (up to `maximum`); the score falls by one for each `decay` without a late round. Timeouts
/// are scaled by `multiplier` (score + 1), as Lifeguard scales its probe and suspicion timeouts.
/// Pure: the probers report rounds, the declaration gate reads the multiplier.
public struct LocalHealth: Sendable, Equatable {
    public var maximum = 8
    public var decay: Duration = .milliseconds(500)
    /// Lateness from which a round counts as late.
    public var lateFrom: Duration
    private var score = 0
    private var raisedAt: ContinuousClock.Instant?

    public init(interval: Duration) { lateFrom = interval / 4 }

    /// A prober round that was `late` (woken late, or its wait overran) at `at`.
    public mutating func round(late: Duration, at: ContinuousClock.Instant) {
        guard late >= lateFrom else { return }
        score = min(maximum, current(at) + 1)
        raisedAt = at
    }

    /// How many times longer a silence must last before it means anything.
    public func multiplier(at: ContinuousClock.Instant) -> Int { current(at) + 1 }

    private func current(_ at: ContinuousClock.Instant) -> Int {
        guard let raisedAt else { return 0 }
        let decays = Int(max(.zero, at - raisedAt) / decay)
        return max(0, score - decays)
    }
}
