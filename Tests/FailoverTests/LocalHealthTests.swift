@testable import Failover
import Testing

/// Lifeguard's awareness: a late probe loop scales the timeouts, and recovers.
struct LocalHealthTests {
    @Test func lateRoundsRaiseTheMultiplierAndItDecays() {
        let t0 = ContinuousClock.now
        var health = LocalHealth(interval: .milliseconds(100))
        health.round(late: .milliseconds(24), at: t0)
        #expect(health.multiplier(at: t0) == 1, "under a quarter of the interval is on time")
        health.round(late: .milliseconds(30), at: t0)
        health.round(late: .milliseconds(80), at: t0 + .milliseconds(100))
        #expect(health.multiplier(at: t0 + .milliseconds(100)) == 3)
        #expect(health.multiplier(at: t0 + .milliseconds(600)) == 2, "one point less per 500 ms on time")
        #expect(health.multiplier(at: t0 + .seconds(2)) == 1)
        for i in 0..<20 { health.round(late: .milliseconds(90), at: t0 + .seconds(3) + .milliseconds(i)) }
        #expect(health.multiplier(at: t0 + .seconds(3) + .milliseconds(20)) == 9, "capped at maximum + 1")
    }
}
