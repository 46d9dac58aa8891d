@testable import Failover
import Testing

/// The QEMU process as the second source: what its threads say about a silent guest.
struct ProcessEvidenceTests {
    static let t0 = ContinuousClock.now

    /// Each thread has run `ran` ms (by default 10 ms more at each later look: it got the CPU).
    static func look(pid: Int32 = 100, started: UInt64 = 5, after ms: Int, _ threads: [(String, Character, waitedMs: Int)],
                     ranMs: Int? = nil) -> ProcessSchedule {
        ProcessSchedule(pid: pid, started: started, at: t0 + .milliseconds(ms), threads: threads.enumerated().map { i, t in
            .init(tid: pid + Int32(i), name: t.0, state: t.1, ran: .milliseconds(ranMs ?? 10 + ms / 40), waited: .milliseconds(t.waitedMs))
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

    /// The run delay grows only when a wait ends: a main loop runnable at both looks that has not
    /// run since is waiting now, the whole interval, although its run delay did not move.
    @Test func aThreadStillWaitingForACPUIsStarvedThoughItsRunDelayStoodStill() {
        let before = Self.look(after: 0, [("qemu-system-x86", "R", 600), ("CPU 0/TCG", "S", 50)], ranMs: 40)
        let now = Self.look(after: 1400, [("qemu-system-x86", "R", 600), ("CPU 0/TCG", "S", 50)], ranMs: 40)
        #expect(ProcessEvidence.between(before, now) == .starved(waited: .milliseconds(1400), over: .milliseconds(1400)))
        // Sleeping at both looks without running: a guest hung in a halt, not a starved one.
        let asleep = Self.look(after: 1400, [("qemu-system-x86", "S", 600), ("CPU 0/TCG", "S", 50)], ranMs: 40)
        #expect(ProcessEvidence.between(Self.look(after: 0, [("qemu-system-x86", "S", 600), ("CPU 0/TCG", "S", 50)], ranMs: 40), asleep)
                == .running(waited: .zero, over: .milliseconds(1400)))
        // Runnable at both looks but it ran in between: only the accounted wait counts.
        let ran = Self.look(after: 1400, [("qemu-system-x86", "R", 610), ("CPU 0/TCG", "S", 50)], ranMs: 90)
        #expect(ProcessEvidence.between(before, ran) == .running(waited: .milliseconds(10), over: .milliseconds(1400)))
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
