import Foundation
import ServiceControl
import StateStore
import Testing

/// From what the heartbeat destination table says about each backend address to the rows the
/// service health reads: an unreachable address is down at once, a reachable one up; an address
/// watched but never answered is down once the grace is over (unknown is unsafe), and one not
/// watched at all keeps what was last saved (its processor's own state decides).
struct ReachabilityTrackerTests {
    let start = Date(timeIntervalSince1970: 1_000_000)
    let ip = "10.1.1.10"

    @Test func anUnreachableAddressGoesDownAndComesBackWhenItAnswers() {
        var tracker = ReachabilityTracker(grace: 2)
        let c1 = tracker.changes([ip: .reachable], saved: [:], now: start)
        #expect(c1.isEmpty, "no row means up: nothing to write")
        let down = tracker.changes([ip: .unreachable(misses: 4)], saved: [:], now: start)
        #expect(down.map(\.up) == [false] && down.first?.subject == ip && down.first?.probe == .heartbeat)
        #expect(down.first?.reason.contains("4") == true)
        let saved = Dictionary(uniqueKeysWithValues: down.map { ($0.subject, $0) })
        let c2 = tracker.changes([ip: .unreachable(misses: 4)], saved: saved, now: start + 1)
        #expect(c2.isEmpty, "already saved")
        let up = tracker.changes([ip: .reachable], saved: saved, now: start + 2)
        #expect(up.map(\.up) == [true])
    }

    @Test func anAddressThatNeverAnswersIsDownAfterTheGrace() {
        var tracker = ReachabilityTracker(grace: 2)
        let c3 = tracker.changes([ip: .unanswered], saved: [:], now: start)
        #expect(c3.isEmpty)
        let c4 = tracker.changes([ip: .unanswered], saved: [:], now: start + 1.9)
        #expect(c4.isEmpty, "within the grace: as saved")
        let down = tracker.changes([ip: .unanswered], saved: [:], now: start + 2)
        #expect(down.map(\.up) == [false])
        #expect(down.first?.reason.contains("no heartbeat reply") == true)
    }

    @Test func withinTheGraceTheSavedStateHolds() {
        // A restarted serve: the address was down before; until it answers, it stays down.
        var tracker = ReachabilityTracker(grace: 2)
        let saved = [ip: BackendHealthRecord(probe: .heartbeat, subject: ip, up: false, reason: "missed", since: start - 60)]
        let c5 = tracker.changes([ip: .unanswered], saved: saved, now: start)
        #expect(c5.isEmpty)
        let c6 = tracker.changes([ip: .reachable], saved: saved, now: start + 0.2)
        #expect(c6.map(\.up) == [true])
    }

    @Test func theGraceStartsAgainWhenTheAddressIsWatchedAfresh() {
        var tracker = ReachabilityTracker(grace: 2)
        _ = tracker.changes([ip: .unanswered], saved: [:], now: start)
        _ = tracker.changes([ip: .unwatched], saved: [:], now: start + 1)
        let c7 = tracker.changes([ip: .unanswered], saved: [:], now: start + 2.5)
        #expect(c7.isEmpty, "watched again at 2.5 s: a new grace")
        let c8 = tracker.changes([ip: .unanswered], saved: [:], now: start + 4.5)
        #expect(c8.map(\.up) == [false])
    }

    @Test func anUnwatchedAddressKeepsItsRow() {
        var tracker = ReachabilityTracker(grace: 2)
        let saved = [ip: BackendHealthRecord(probe: .heartbeat, subject: ip, up: false, reason: "missed", since: start)]
        let c9 = tracker.changes([ip: .unwatched], saved: saved, now: start + 100)
        #expect(c9.isEmpty)
        let c10 = tracker.changes([ip: .unwatched], saved: [:], now: start + 100)
        #expect(c10.isEmpty)
    }
}
