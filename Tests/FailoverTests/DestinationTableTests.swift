@testable import Failover
import Testing

struct DestinationTableTests {
    var settings: HeartbeatSettings { HeartbeatSettings(intervalMs: 100, timeoutMs: 40, threshold: 3) }

    /// An entry whose addresses have both answered once.
    func armed() -> DestinationEntry {
        var e = entry()
        _ = e.replied(0, after: .milliseconds(2))
        _ = e.replied(1, after: .milliseconds(2))
        return e
    }

    func entry() -> DestinationEntry {
        DestinationEntry(processor: "p1", addresses: [.init(vlan: "back", ip: "10.0.2.10"), .init(vlan: "front", ip: "10.0.1.10")],
                         settings: settings)
    }

    @Test func aProcessorThatNeverAnsweredIsNotJudged() {
        var e = entry()
        for _ in 0..<20 { #expect(e.missed(0).isEmpty); #expect(e.missed(1).isEmpty) }
        #expect(!e.isSilent)
    }

    @Test func oneAdapterPastItsThresholdIsUnreachableButTheProcessorIsNotFailed() {
        var e = armed()
        var events: [DestinationEntry.Event] = []
        for _ in 0..<10 {
            events += e.missed(1)
            events += e.replied(0, after: .milliseconds(2))
        }
        #expect(events == [.adapterUnreachable(vlan: "front", ip: "10.0.1.10", misses: 3)])
        #expect(!e.isSilent)
    }

    @Test func everyAddressPastItsThresholdMakesTheProcessorSilent() {
        var e = armed()
        var events: [DestinationEntry.Event] = []
        for _ in 0..<2 { events += e.missed(0); events += e.missed(1) }
        #expect(!e.isSilent)
        events += e.missed(0)
        #expect(!e.isSilent, "one address still answers")
        events += e.missed(1)
        #expect(e.isSilent)
        #expect(e.silenceReason == "no heartbeat reply on any address: 10.0.2.10 (back), 10.0.1.10 (front), 3 misses each")
        #expect(events == [.adapterUnreachable(vlan: "back", ip: "10.0.2.10", misses: 3),
                           .adapterUnreachable(vlan: "front", ip: "10.0.1.10", misses: 3)])
        for _ in 0..<5 { #expect(e.missed(0).isEmpty) }
    }

    @Test func silentRoundsCountWhatEveryAnsweringAddressMissed() {
        var e = armed()
        _ = e.missed(0); _ = e.missed(1); _ = e.missed(1)
        #expect(e.silentRounds == 1, "the address that missed least decides")
        _ = e.missed(0); _ = e.missed(0)
        #expect(e.silentRounds == 2)
        _ = e.missed(1)
        #expect(e.silentRounds == 3 && e.isSilent)
        _ = e.replied(0, after: .milliseconds(2))
        #expect(e.silentRounds == 0)
    }

    @Test func aSilentProcessorThatAnswersAgainRecovers() {
        // The declaration gate may hold a silence (a starved guest): the entry keeps counting.
        var e = armed()
        for _ in 0..<3 { _ = e.missed(0); _ = e.missed(1) }
        #expect(e.isSilent)
        #expect(e.replied(0, after: .milliseconds(3)).isEmpty)
        #expect(e.replied(0, after: .milliseconds(3)) == [.adapterReachable(vlan: "back", ip: "10.0.2.10")])
        #expect(!e.isSilent)
    }

    @Test func anAddressThatNeverAnsweredIsNotCounted() {
        // A NIC just hot-plugged may wait for its lease: its silence is not a failure, and the
        // processor is judged on the addresses that did answer.
        var e = entry()
        _ = e.replied(0, after: .milliseconds(2))
        for _ in 0..<10 { #expect(e.missed(1).isEmpty) }
        var events: [DestinationEntry.Event] = []
        for _ in 0..<3 { events += e.missed(0) }
        #expect(events == [.adapterUnreachable(vlan: "back", ip: "10.0.2.10", misses: 3)])
        #expect(e.isSilent)
        #expect(e.silenceReason == "no heartbeat reply on any address: 10.0.2.10 (back), 3 misses each")
    }

    @Test func aFlappingProcessorIsNeverDeclared() {
        // Loses two heartbeats in three on every address, for a long time.
        var e = armed()
        for round in 0..<300 {
            for i in 0..<2 {
                _ = round % 3 == 2 ? e.replied(i, after: .milliseconds(3)) : e.missed(i)
                #expect(!e.isSilent)
            }
        }
        #expect(!e.isSilent)
    }

    @Test func anUnreachableAdapterComesBackOnlyAfterConsecutiveReplies() {
        var e = armed()
        for _ in 0..<3 { _ = e.missed(1) }
        #expect(e.addresses[1].status == .unreachable)
        #expect(e.replied(1, after: .milliseconds(2)).isEmpty)
        _ = e.missed(1)
        #expect(e.replied(1, after: .milliseconds(2)).isEmpty, "a miss in between restarts the count")
        #expect(e.replied(1, after: .milliseconds(2)) == [.adapterReachable(vlan: "front", ip: "10.0.1.10")])
        #expect(e.addresses[1].status == .reachable)
    }

    @Test func theWaitFollowsTheLearnedResponseTimeWithinBounds() {
        var e = entry()
        #expect(e.timeout == .milliseconds(40))
        _ = e.replied(0, after: .milliseconds(10))
        #expect(e.timeout == .milliseconds(50), "ignoring noise: 8 x 10 ms capped at half the interval")
        var fast = entry()
        _ = fast.replied(0, after: .milliseconds(1))
        #expect(fast.timeout == .milliseconds(40), "never below the configured minimum")
    }
}
