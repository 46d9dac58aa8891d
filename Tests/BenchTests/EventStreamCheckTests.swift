import Testing
@testable import VPBench

/// The event bench's own checks: if they could not see a loss, its "0 lost" would mean nothing.
@Suite struct EventStreamCheckTests {
    @Test func theWritersStampIsReadBackFromTheEventsJSON() throws {
        let json = #"{"detail":"\#(EventWriter.detail(41, at: 123_456_789))","id":9,"kind":"service"}"#
        let stamp = try #require(EventWriter.parse(data: json))
        #expect(stamp.sequence == 41 && stamp.ns == 123_456_789)
        #expect(EventWriter.parse(data: #"{"detail":"vpctl serve started"}"#) == nil)
    }

    @Test func aCompleteInOrderStreamHasNoProblems() {
        var ledger = EventFollowerLedger()
        ledger.received(id: 10, sequence: nil) // the daemon's own event between the writer's
        for (i, id) in (11...13).enumerated() { ledger.received(id: Int64(id), sequence: i) }
        #expect(ledger.verdict(written: 3).isEmpty)
    }

    @Test func aGapADuplicateAndALossAreEachReported() {
        var gap = EventFollowerLedger()
        gap.received(id: 1, sequence: 0)
        gap.received(id: 3, sequence: 2)
        #expect(gap.verdict(written: 3).contains("events 2…2 missing (3 came after 1)"))
        #expect(gap.verdict(written: 3).contains("received 2 of the writer's 3 events"))

        var again = EventFollowerLedger()
        again.received(id: 1, sequence: 0)
        again.received(id: 1, sequence: 0)
        #expect(again.verdict(written: 1).contains("event 1 after 1: not in order (or again)"))

        var late = EventFollowerLedger()
        late.received(id: 5, sequence: 1)
        #expect(late.verdict(written: 2).contains { $0.hasPrefix("the writer's first event (#0) never came") })
    }
}
