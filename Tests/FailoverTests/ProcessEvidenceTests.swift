@testable import Failover
import Testing

/// The QEMU process as the second source: what its threads say about a silent guest.
struct ProcessEvidenceTests {
    static let t0 = ContinuousClock.now

    static func look(pid: Int32 = 100, started: UInt64 = 5, after ms: Int, _ threads: [(String, Character, waitedMs: Int)]) -> ProcessSchedule {
        ProcessSchedule(pid: pid, started: started, at: t0 + .milliseconds(ms), threads: threads.enumerated().map { i, t in
            .init(tid: pid + Int32(i), name: t.0, state: t.1, ran: .milliseconds(10), waited: .milliseconds(t.waitedMs))
        })
    }

    @Test func statLinesAreReadFromTheLastParenthesis() throws {
        let fields = (4...52).map(String.init).joined(separator: " ")
        let line = "4242 (CPU 0/TCG) R \(fields)"
        let parsed = try #require(ProcessSchedule.parseStat(line))
        #expect(parsed.name == "CPU 0/TCG" && parsed.state == "R" && parsed.started == 22)
        let odd = try #require(ProcessSchedule.parseStat("7 (a) T (b)) t \(fields)"))
        #expect(odd.name == "a) T (b)" && odd.state == "t")
        #expect(ProcessSchedule.parseStat("7 (short) S 1 2") == nil)
        let sched = try #require(ProcessSchedule.parseSchedstat("1500000 250000000 42\n"))
        #expect(sched.ran == .milliseconds(1.5) && sched.waited == .milliseconds(250))
    }

    @Test func aStarvedGuestWaitedForACPU() {
        let before = Self.look(after: 0, [("qemu-system-x86", "S", 0), ("CPU 0/TCG", "R", 0)])
        let now = Self.look(after: 400, [("qemu-system-x86", "R", 90), ("CPU 0/TCG", "R", 300)])
        #expect(ProcessEvidence.between(before, now) == .starved(waited: .milliseconds(300), over: .milliseconds(400)))
    }

    @Test func aGuestThatGotItsCPUIsNotStarved() {
        let before = Self.look(after: 0, [("qemu-system-x86", "S", 0), ("CPU 0/TCG", "S", 0)])
        let now = Self.look(after: 400, [("qemu-system-x86", "S", 5), ("CPU 0/TCG", "R", 20)])
        #expect(ProcessEvidence.between(before, now) == .running(waited: .milliseconds(20), over: .milliseconds(400)))
    }

    @Test func stoppedVCPUsAreAStoppedGuestEvenWithoutAnEarlierLook() {
        let now = Self.look(after: 400, [("qemu-system-x86", "T", 0), ("CPU 0/TCG", "T", 0), ("vnc_worker", "T", 0)])
        #expect(ProcessEvidence.between(nil, now) == .stopped)
        #expect(ProcessEvidence.between(Self.look(after: 0, [("qemu-system-x86", "S", 0), ("CPU 0/TCG", "R", 0)]), now) == .stopped)
        let tracedLeaderOnly = Self.look(after: 400, [("qemu-system-x86", "t", 0)])
        #expect(ProcessEvidence.between(nil, tracedLeaderOnly) == .stopped, "no named vCPU: the leader stands in")
    }

    @Test func aGoneOrZombieOrRecycledProcessIsGone() {
        let before = Self.look(after: 0, [("qemu-system-x86", "S", 0), ("CPU 0/TCG", "R", 0)])
        #expect(ProcessEvidence.between(before, nil) == .gone)
        #expect(ProcessEvidence.between(before, Self.look(after: 400, [("qemu-system-x86", "Z", 0)])) == .gone)
        #expect(ProcessEvidence.between(before, Self.look(started: 6, after: 400, [("other", "S", 0)])) == .gone,
                "the pid now names another process")
    }

    @Test func withoutAProcessOrAnEarlierLookNothingIsKnown() {
        #expect(ProcessEvidence.between(nil, nil) == .unknown("no QEMU process of it on this host"))
        let now = Self.look(after: 400, [("qemu-system-x86", "R", 300), ("CPU 0/TCG", "R", 300)])
        #expect(ProcessEvidence.between(nil, now) == .unknown("no look at its threads from when the silence began"))
    }
}
