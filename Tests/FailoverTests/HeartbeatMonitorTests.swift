@testable import Failover
import Foundation
import Synchronization
import Testing
import TestSupport

/// The probers, the silence ledger and the gate together, on loopback, with the QEMU side
/// scripted: a silent processor is reported every round, and judged on what its QEMU shows.
struct HeartbeatMonitorTests {
    @Test func aSilentProcessorIsJudgedOnItsQEMUsThreads() async throws {
        let responder = try LoopbackResponder(address: "127.0.0.1", spoofFrom: "127.0.0.2")
        defer { responder.stop() }
        let qemu = ScriptedScheduling()
        let start = ContinuousClock.now
        qemu.set("p1", pid: 10, state: "S", at: start)
        let reports = Mutex(0)
        let monitor = HeartbeatMonitor(settings: HeartbeatSettings(intervalMs: nil, timeoutMs: nil, threshold: nil),
                                       port: responder.port, scheduling: qemu) { d in
            if case .processorFailed = d.kind { reports.withLock { $0 += 1 } }
        }
        defer { monitor.stopAll() }
        try monitor.update([HeartbeatTarget(processor: "p1", addresses: [.init(vlan: "back", ip: "127.0.0.1")])])
        let hostOf = ["p1": "local"]
        try await waitUntil("p1 answered its first heartbeats", within: .seconds(5)) { monitor.armed.contains("p1") }
        #expect(monitor.judge("p1", hostOf: hostOf, arrivedAgo: nil).verdict == .hold(reason: "it answered again"))

        // Goes silent while its vCPU waits for a CPU: reported failed each round, but held.
        responder.mute.withLock { $0 = true }
        try await waitUntil("a silent processor is reported every round until judged", within: .seconds(5), every: .milliseconds(10)) {
            reports.withLock { $0 } >= 2
        }
        let now = ContinuousClock.now
        qemu.set("p1", pid: 10, state: "R", waited: now - start, at: now) // it got no CPU at all
        guard case .hold(let why) = monitor.judge("p1", hostOf: hostOf, arrivedAgo: nil).verdict else {
            Issue.record("a starved guest is held"); return
        }
        #expect(why.contains("waited for a CPU"), "\(why)")

        // Then its QEMU is stopped: declared at once.
        qemu.set("p1", pid: 10, state: "T", waited: now - start, at: .now)
        guard case .declare(let reason) = monitor.judge("p1", hostOf: hostOf, arrivedAgo: nil).verdict else {
            Issue.record("a stopped guest is declared"); return
        }
        #expect(reason.hasSuffix("its QEMU process is stopped (state T)"))
    }

    /// A prober's thread runs at a real-time priority (SCHED_RR), so a saturated CPU does not
    /// make it miss rounds; without the right to, the service is told why.
    @Test func probersRunAtARealtimePriority() async throws {
        let responder = try LoopbackResponder(address: "127.0.0.1", spoofFrom: "127.0.0.2")
        defer { responder.stop() }
        let monitor = HeartbeatMonitor(settings: HeartbeatSettings(intervalMs: nil, timeoutMs: nil, threshold: nil),
                                       port: responder.port, scheduling: ScriptedScheduling()) { _ in }
        defer { monitor.stopAll() }
        try monitor.update([HeartbeatTarget(processor: "rtprobe", addresses: [.init(vlan: "back", ip: "127.0.0.1")])])
        try await waitUntil("rtprobe answered its first heartbeats", within: .seconds(5)) { monitor.armed.contains("rtprobe") }
        let threads = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").compactMap(Int32.init)
        let prober = try #require(threads.first { tid in
            (try? String(contentsOfFile: "/proc/self/task/\(tid)/comm", encoding: .utf8))?.hasPrefix("hb rtprobe") == true
        }, "the prober's thread is named after its processor: \(threads.map { (try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8)) ?? "?" })")
        if geteuid() == 0 {
            #expect(sched_getscheduler(prober) == SCHED_RR, "policy of thread \(prober)")
            var parameters = sched_param()
            #expect(sched_getparam(prober, &parameters) == 0 && parameters.sched_priority == ThreadPriority.realtime)
        } else {
            #expect(sched_getscheduler(prober) == SCHED_OTHER)
            #expect(ThreadPriority.failureNotReported() != nil, "the service can say why")
        }
    }
}
