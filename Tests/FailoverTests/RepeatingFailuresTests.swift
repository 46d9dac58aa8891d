@testable import Failover
import Testing

struct RepeatingFailuresTests {
    @Test func aFailureThatRepeatsEverySecondIsAlertedOnceThenLessAndLessOften() {
        var failures = RepeatingFailures<String>()
        let start = ContinuousClock.now
        var alerts: [Int] = []
        var retries: [Duration] = []
        for second in 0..<600 {
            let v = failures.failed("move 1", "libvirt: connection refused", at: start + .seconds(second))
            if v.alert { alerts.append(second) }
            retries.append(v.retryIn)
        }
        #expect(alerts.first == 0)
        #expect(alerts.count <= 7, "alerts at \(alerts) over 10 minutes")
        #expect(retries.prefix(4) == [.seconds(1), .seconds(2), .seconds(4), .seconds(8)])
        #expect(retries.last == .seconds(30), "retries back off to a bound")

        let changed = failures.failed("move 1", "libvirt: domain not found", at: start + .seconds(601))
        #expect(changed.alert, "a different failure is told at once")
        failures.succeeded("move 1")
        let again = failures.failed("move 1", "libvirt: domain not found", at: start + .seconds(602))
        #expect(again.alert && again.times == 1 && again.retryIn == .seconds(1), "after a success it is a first failure again")
    }
}
