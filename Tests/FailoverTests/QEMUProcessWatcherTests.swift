@testable import Failover
import Foundation
import Hosts
import Synchronization
import Testing

/// The pidfd watch, on a stand-in process that looks like a domain's QEMU to it (libvirt's pid
/// file plus `guest=<name>` on its command line).
struct QEMUProcessWatcherTests {
    /// The ≤ 50 ms bar (crash → declared) is measured by `vp-bench failover`, not here: a timed
    /// assertion in a unit test fails on a loaded machine and proves nothing about the bar.
    @Test func aProcessThatDiesIsReported() async throws {
        let name = "vp-watch-\(UInt32.random(in: 0...UInt32.max))"
        let dir = "/run/libvirt/qemu"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", "import time; time.sleep(60)", "guest=\(name),debug-threads=on"]
        try process.run()
        let pidFile = "\(dir)/\(name).pid"
        try "\(process.processIdentifier)".write(toFile: pidFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: pidFile); process.terminate() }
        #expect(QEMUProcess.state(of: name) == .running(process.processIdentifier))

        let seen = Mutex<[(Detection, ContinuousClock.Instant)]>([])
        let watcher = QEMUProcessWatcher { d in seen.withLock { $0.append((d, .now)) } }
        defer { watcher.stop() }
        watcher.update([name])
        try await Task.sleep(for: .milliseconds(100))
        #expect(seen.withLock { $0.isEmpty }, "a living process is not reported")

        let killedAt = ContinuousClock.now
        kill(process.processIdentifier, SIGKILL)
        let deadline = killedAt + .seconds(10)
        while seen.withLock({ $0.isEmpty }), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(1)) }
        let (detection, at) = try #require(seen.withLock { $0.first })
        #expect(detection.subject == name)
        #expect(detection.source == .hypervisor)
        #expect(at >= killedAt)
        process.waitUntilExit()
        #expect(QEMUProcess.state(of: name) == .exited(process.processIdentifier))
    }
}
