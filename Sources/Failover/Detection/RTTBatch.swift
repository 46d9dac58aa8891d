import Metrics

/// A prober's heartbeat round-trip times, kept on its own thread and handed to the metrics once
/// a second: the prober runs at real-time priority and must not take the histogram's lock (which
/// a `/metrics` scrape also takes) every round.
struct RTTBatch {
    private let timer: Timer
    private let every: Duration
    private var samples: [Duration] = []
    private var lastFlush = ContinuousClock.now

    init(timer: Timer, every: Duration = .seconds(1)) {
        self.timer = timer
        self.every = every
        samples.reserveCapacity(64)
    }

    mutating func add(_ rtt: Duration) { samples.append(rtt) }

    /// Hands the samples over if the last hand-over is `every` ago.
    mutating func flushIfDue(now: ContinuousClock.Instant) {
        guard now - lastFlush >= every else { return }
        for rtt in samples { timer.recordInterval(rtt) }
        samples.removeAll(keepingCapacity: true)
        lastFlush = now
    }
}
