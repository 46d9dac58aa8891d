@testable import Failover
import Synchronization
import Testing

/// The QEMU side as a script: which pid each domain has and what its threads look like now.
final class ScriptedScheduling: SchedulingSource {
    struct Guest { var pid: Int32; var state: Character; var waited: Duration; var at: ContinuousClock.Instant }
    private let guests = Mutex<[String: Guest]>([:])

    func set(_ domain: String, pid: Int32, state: Character = "S", waited: Duration = .zero, at: ContinuousClock.Instant) {
        guests.withLock { $0[domain] = Guest(pid: pid, state: state, waited: waited, at: at) }
    }
    func remove(_ domain: String) { guests.withLock { _ = $0.removeValue(forKey: domain) } }

    func qemuPid(of domain: String) -> Int32? { guests.withLock { $0[domain]?.pid } }
    func schedule(of pid: Int32) -> ProcessSchedule? {
        guard let g = guests.withLock({ $0.values.first { $0.pid == pid } }) else { return nil }
        return ProcessSchedule(pid: pid, started: 1, at: g.at, threads: [
            .init(tid: pid, name: "qemu-system-x86", state: g.state == "T" ? "T" : "S", ran: .zero, waited: .zero),
            .init(tid: pid + 1, name: "CPU 0/TCG", state: g.state, ran: .zero, waited: g.waited),
        ])
    }
}

/// Scripted silences judged as the service judges them (defaults: 100 ms rounds, threshold 4):
/// starved vs stopped vs dead vs everyone quiet vs the controller late vs a cascade.
struct DeclarationGateTests {
    let t0 = ContinuousClock.now
    let qemu = ScriptedScheduling()
    let ledger: SilenceLedger
    let hostOf = ["p1": "local", "p2": "local", "p3": "local", "r1": "remote"]

    init() {
        ledger = SilenceLedger(settings: HeartbeatSettings(intervalMs: nil, timeoutMs: nil, threshold: nil), scheduling: qemu)
    }

    func at(_ ms: Int) -> ContinuousClock.Instant { t0 + .milliseconds(ms) }

    /// `processor` answered last at 0 ms; its first silent round takes the look at its QEMU.
    func silence(_ processor: String, since ms: Int = 0, pastThreshold: Bool = true) {
        if let pid = qemu.qemuPid(of: processor) { qemu.set(processor, pid: pid, at: at(ms + 40)) }
        ledger.silent(processor, since: at(ms), pastThreshold: pastThreshold)
    }

    func judge(_ processor: String, at ms: Int, arrivedAgo: Duration? = nil) -> DeclarationGate.Verdict {
        ledger.judge(processor, host: hostOf[processor]!, hostOf: hostOf, arrivedAgo: arrivedAgo, at: at(ms)).verdict
    }

    func declared(_ v: DeclarationGate.Verdict) -> Bool { if case .declare = v { true } else { false } }
    func reason(_ v: DeclarationGate.Verdict) -> String {
        switch v { case .declare(let r), .hold(let r): r }
    }

    @Test func aStoppedGuestIsDeclaredAtOnceWhateverElseHappens() {
        qemu.set("p1", pid: 10, at: at(0)); qemu.set("p2", pid: 20, at: at(0))
        silence("p1"); silence("p2")
        (0..<4).forEach { ledger.round(late: .milliseconds(60), at: at($0)) } // the controller is late too
        qemu.set("p1", pid: 10, state: "T", at: at(350)); qemu.set("p2", pid: 20, state: "T", at: at(350))
        let v1 = judge("p1", at: 350, arrivedAgo: .seconds(2)), v2 = judge("p2", at: 350)
        #expect(v1 == .declare(reason: "silent 350 ms and its QEMU process is stopped (state T)"))
        #expect(declared(v2), "two stopped at once are two failures: \(reason(v2))")
    }

    @Test func aStoppedGuestIsDeclaredAtHalfTheThreshold() {
        qemu.set("p1", pid: 10, at: at(0))
        silence("p1", pastThreshold: false)
        qemu.set("p1", pid: 10, state: "T", at: at(240))
        #expect(judge("p1", at: 240) == .declare(reason: "silent 240 ms and its QEMU process is stopped (state T)"))
    }

    @Test func beforeTheThresholdAnythingElseWaitsWithoutALogLine() {
        qemu.set("p1", pid: 10, at: at(0))
        silence("p1", pastThreshold: false)
        qemu.set("p1", pid: 10, waited: .milliseconds(2), at: at(240))
        let early = ledger.judge("p1", host: "local", hostOf: hostOf, arrivedAgo: nil, at: at(240))
        #expect(early.verdict == .hold(reason: "silent 240 ms, the heartbeat threshold not reached yet") && !early.firstHold)
        silence("p1", pastThreshold: true)
        let held = ledger.judge("p1", host: "local", hostOf: hostOf, arrivedAgo: .seconds(1), at: at(340))
        #expect(!declared(held.verdict) && held.firstHold, "the first hold past the threshold is said")
    }

    @Test func aDeadGuestIsDeclaredAtOnce() {
        qemu.set("p1", pid: 10, at: at(0))
        silence("p1")
        qemu.remove("p1")
        #expect(judge("p1", at: 300) == .declare(reason: "silent 300 ms and its QEMU process is gone"))
    }

    @Test func aStarvedGuestIsHeldUntilItsSilenceIsLong() {
        // Measured in the churn benchmark: silent 5.3 s, its QEMU waited 4848 ms in 5220 ms, then
        // answered; silent 3.7 s waiting 740 ms in 3574 ms, then answered.
        qemu.set("p1", pid: 10, at: at(0))
        silence("p1")
        qemu.set("p1", pid: 10, state: "R", waited: .milliseconds(250), at: at(440))
        let held = judge("p1", at: 440)
        #expect(reason(held) == "silent 440 ms, not yet 120000 ms (its QEMU is starved: it waited for a CPU 250 ms in 400 ms)")
        qemu.set("p1", pid: 10, state: "S", waited: .milliseconds(740), at: at(3614))
        #expect(!declared(judge("p1", at: 3700)))
        qemu.set("p1", pid: 10, state: "R", waited: .milliseconds(4848), at: at(5260))
        #expect(!declared(judge("p1", at: 5344)))
        qemu.set("p1", pid: 10, state: "R", waited: .milliseconds(19_700), at: at(20_000))
        #expect(!declared(judge("p1", at: 20_059)), "measured: starved for 20 s, then answered")
        qemu.set("p1", pid: 10, state: "R", waited: .milliseconds(119_000), at: at(120_000))
        #expect(reason(judge("p1", at: 120_000)).hasPrefix("silent 120000 ms (its QEMU is starved"), "silent for 2 minutes: not serving either")
    }

    @Test func aGuestStarvedEarlierInItsSilenceThatNowHangsIsDeclared() throws {
        qemu.set("p1", pid: 10, at: at(0))
        silence("p1")
        var waited = 0
        for t in stride(from: 1040, through: 5040, by: 1000) { // starved: waits all the time
            waited = t - 40
            qemu.set("p1", pid: 10, state: "R", waited: .milliseconds(waited), at: at(t))
            #expect(!declared(judge("p1", at: t)))
        }
        var verdicts: [DeclarationGate.Verdict] = []
        for t in stride(from: 6040, through: 8040, by: 1000) { // the load is gone; it runs, and stays silent
            qemu.set("p1", pid: 10, state: "S", waited: .milliseconds(waited + 5), at: at(t))
            verdicts.append(judge("p1", at: t))
        }
        let declaration = try #require(verdicts.first(where: declared), "judged on the last seconds, not on the whole silence")
        #expect(reason(declaration).hasSuffix("its QEMU ran, waiting for a CPU only 5 ms in 2000 ms"), "\(reason(declaration))")
    }

    @Test func aRunningGuestThatDoesNotAnswerIsDeclaredAfterASecond() {
        qemu.set("p1", pid: 10, at: at(0))
        silence("p1")
        qemu.set("p1", pid: 10, state: "S", waited: .milliseconds(3), at: at(340))
        #expect(judge("p1", at: 340) == .hold(reason: "silent 340 ms, not yet 1000 ms (its QEMU runs)"),
                "measured: healthy guests silent ~310 ms while their QEMU waited 0 ms")
        qemu.set("p1", pid: 10, state: "S", waited: .milliseconds(5), at: at(1000))
        #expect(judge("p1", at: 1000) == .declare(reason: "silent 1000 ms; its QEMU ran, waiting for a CPU only 5 ms in 960 ms"))
    }

    @Test func everyoneQuietInTheSameInstantIsAHostEvent() {
        for (p, pid) in [("p1", Int32(10)), ("p2", 20), ("p3", 30)] { qemu.set(p, pid: pid, at: at(0)); silence(p, since: p == "p3" ? 60 : 0) }
        for p in ["p1", "p2", "p3"] { qemu.set(p, pid: qemu.qemuPid(of: p)!, waited: .milliseconds(2), at: at(500)) }
        let held = judge("p1", at: 500)
        #expect(reason(held) == "silent 500 ms, not yet 1500 ms (its QEMU runs; p2, p3 on local fell silent in the same instant)")
        // ~0.5 s of common silence, then everyone answers: nobody is declared.
        for p in ["p1", "p2", "p3"] { ledger.answered(p) }
        #expect(judge("p1", at: 600) == .hold(reason: "it answered again"))
    }

    @Test func aHostEventThatLastsIsDeclaredOneProcessorAtATime() {
        for (p, pid) in [("p1", Int32(10)), ("p2", 20)] { qemu.set(p, pid: pid, at: at(0)); silence(p) }
        for p in ["p1", "p2"] { qemu.set(p, pid: qemu.qemuPid(of: p)!, waited: .milliseconds(2), at: at(1500)) }
        #expect(declared(judge("p1", at: 1500)))
        let second = judge("p2", at: 1500)
        #expect(reason(second).hasSuffix("another processor on local was declared by heartbeats 0 ms ago)"), "\(reason(second))")
        #expect(!declared(second))
        #expect(!declared(judge("p2", at: 2999)))
        #expect(declared(judge("p2", at: 3000)))
    }

    @Test func aNeighbourSilentAtAnotherMomentIsNoHostEvent() {
        for (p, pid) in [("p1", Int32(10)), ("p2", 20)] { qemu.set(p, pid: pid, at: at(0)) }
        silence("p2", since: -5000)
        silence("p1")
        qemu.set("p1", pid: 10, waited: .milliseconds(1), at: at(1000))
        #expect(declared(judge("p1", at: 1000)))
    }

    @Test func whenTheControllerIsLateTheSilenceMustLastLonger() {
        qemu.set("r1", pid: 0, at: at(0)); qemu.remove("r1") // a remote processor: no QEMU here
        silence("r1")
        ledger.round(late: .milliseconds(50), at: at(100))
        ledger.round(late: .milliseconds(120), at: at(200))
        let held = judge("r1", at: 400)
        #expect(reason(held) == "silent 400 ms, not yet 900 ms (this controller is late (timeouts x3))")
        #expect(declared(judge("r1", at: 900)))
    }

    @Test func aRemoteProcessorWithNothingElseKnownIsDeclaredAtTheThreshold() {
        silence("r1")
        #expect(judge("r1", at: 300) == .declare(reason: "silent 300 ms; no QEMU process of it on this host"))
    }

    @Test func aReplacementSilentSoonAfterItsMoveOnTheSameHostPointsAtTheHost() {
        qemu.set("p3", pid: 30, at: at(0))
        silence("p3")
        qemu.set("p3", pid: 30, waited: .milliseconds(5), at: at(450))
        let held = judge("p3", at: 450, arrivedAgo: .seconds(3))
        #expect(reason(held) == "silent 450 ms, not yet 1500 ms (its QEMU runs; it took its personality over on local 3000 ms ago)")
        #expect(declared(judge("p3", at: 1500, arrivedAgo: .milliseconds(4050))))
        silence("p1")
        #expect(declared(judge("p1", at: 400, arrivedAgo: .seconds(31))) == false, "declared 400 ms after p3 on the same host")
    }

    @Test func theFirstHoldOfASilenceIsSaidOnce() {
        qemu.set("p3", pid: 30, at: at(0))
        silence("p3")
        let first = ledger.judge("p3", host: "local", hostOf: hostOf, arrivedAgo: .seconds(1), at: at(400))
        let second = ledger.judge("p3", host: "local", hostOf: hostOf, arrivedAgo: .seconds(1), at: at(500))
        #expect(first.firstHold && !second.firstHold)
    }
}

/// A silence is reported again only once its last report was judged (or after a second).
struct SilenceReportTests {
    @Test func oneReportAtATimePerSilence() {
        let t0 = ContinuousClock.now
        let ledger = SilenceLedger(settings: HeartbeatSettings(intervalMs: nil, timeoutMs: nil, threshold: nil), scheduling: ScriptedScheduling())
        #expect(!ledger.shouldReport("p1", at: t0), "nothing to report before a silence")
        ledger.silent("p1", since: t0, pastThreshold: true)
        #expect(ledger.shouldReport("p1", at: t0 + .milliseconds(100)))
        #expect(!ledger.shouldReport("p1", at: t0 + .milliseconds(200)), "the first report is not judged yet")
        _ = ledger.judge("p1", host: "local", hostOf: ["p1": "local"], arrivedAgo: nil, at: t0 + .milliseconds(250))
        #expect(ledger.shouldReport("p1", at: t0 + .milliseconds(300)))
        #expect(ledger.shouldReport("p1", at: t0 + .milliseconds(1300)), "a report never judged is made again after a second")
    }
}
