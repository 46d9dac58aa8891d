/// A failure that repeats (a step that keeps failing, a state store that cannot be read): when
/// to try again and when to tell someone. Retries back off from `firstRetry`, doubling up to
/// `maxRetry`. An alert is raised on the first failure, whenever the failure's description
/// changes, and then at intervals doubling from `firstAlert` up to `maxAlert`: not at every retry.
public struct RepeatingFailures<Key: Hashable & Sendable>: Sendable {
    public struct Verdict: Sendable, Equatable {
        public var retryIn: Duration
        /// Tell someone now (log an error, record an alert).
        public var alert: Bool
        /// How many times in a row it failed.
        public var times: Int
    }

    private struct Streak: Sendable {
        var description: String
        var times: Int
        var nextAlert: ContinuousClock.Instant
        var alertInterval: Duration
    }

    public let firstRetry: Duration, maxRetry: Duration
    public let firstAlert: Duration, maxAlert: Duration
    private var streaks: [Key: Streak] = [:]

    public init(firstRetry: Duration = .seconds(1), maxRetry: Duration = .seconds(30),
                firstAlert: Duration = .seconds(10), maxAlert: Duration = .seconds(600)) {
        self.firstRetry = firstRetry; self.maxRetry = maxRetry; self.firstAlert = firstAlert; self.maxAlert = maxAlert
    }

    public mutating func failed(_ key: Key, _ description: String, at now: ContinuousClock.Instant) -> Verdict {
        guard var streak = streaks[key] else {
            streaks[key] = Streak(description: description, times: 1, nextAlert: now + firstAlert, alertInterval: firstAlert)
            return Verdict(retryIn: firstRetry, alert: true, times: 1)
        }
        streak.times += 1
        var alert = false
        if streak.description != description {
            streak = Streak(description: description, times: streak.times, nextAlert: now + firstAlert, alertInterval: firstAlert)
            alert = true
        } else if now >= streak.nextAlert {
            streak.alertInterval = min(streak.alertInterval * 2, maxAlert)
            streak.nextAlert = now + streak.alertInterval
            alert = true
        }
        streaks[key] = streak
        let retry = min(firstRetry * (1 << min(streak.times - 1, 30)), maxRetry)
        return Verdict(retryIn: retry, alert: alert, times: streak.times)
    }

    /// It worked: the next failure is a first one again.
    public mutating func succeeded(_ key: Key) { streaks[key] = nil }

    /// Forgets keys no longer in use (finished moves).
    public mutating func keep(only keys: Set<Key>) { streaks = streaks.filter { keys.contains($0.key) } }
}
