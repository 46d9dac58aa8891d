@testable import Failover
import Foundation
import Hosts
import Synchronization
import Testing
import TestSupport

/// The QEMU watch, on a stand-in process that looks like a domain's QEMU to it (a pid file plus
/// `guest=<name>` on its command line). The pid file is in a directory of the test's own: in
/// libvirt's, every serve and real-daemon test on the host would take it for a running domain
/// without a status file, and refuse to move anything (fail closed) while it is there.
struct QEMUProcessWatcherTests {
    /// The ≤ 50 ms bar (crash → declared) is measured by `vp-bench failover`, not here: a timed
    /// assertion in a unit test fails on a loaded machine and proves nothing about the bar.
    @Test(arguments: [true, false])
    func aProcessThatDiesIsReported(exitEvents: Bool) async throws {
        let (name, process, qemu) = try Self.standIn()
        defer { process.terminate() }

        let seen = Mutex<[(Detection, ContinuousClock.Instant)]>([])
        let watcher = QEMUProcessWatcher(processes: qemu, exitEvents: exitEvents) { d in seen.withLock { $0.append((d, .now)) } }
        defer { watcher.stop() }
        // Root on a kernel with the process connector (these machines): the events are used.
        #expect(watcher.mode == (exitEvents ? .exitEvents : .polling))
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
        #expect(qemu.state(of: name) == .exited(process.processIdentifier))
    }

    /// An idle watcher sleeps: it looks at a living QEMU about once a second (its backstop), not
    /// every 5 ms, even while other processes on the host come and go.
    @Test func anIdleWatcherLooksOnlyWhenAProcessExits() async throws {
        let (name, process, qemu) = try Self.standIn()
        defer { process.terminate() }
        let watcher = QEMUProcessWatcher(processes: qemu) { _ in }
        defer { watcher.stop() }
        watcher.update([name])
        try await Task.sleep(for: .milliseconds(100))
        let before = watcher.looks
        for _ in 0..<20 {
            let other = Process()
            other.executableURL = URL(fileURLWithPath: "/bin/true")
            try other.run()
            other.waitUntilExit()
        }
        try await Task.sleep(for: .milliseconds(1500))
        #expect(watcher.looks - before <= 3, "looked \(watcher.looks - before) times in 1.5 s (polling every 5 ms: ~300)")
        #expect(watcher.watching == [name], "the living process is still watched")
    }

    /// A stand-in QEMU for domain `name`: its pid file (in a scratch directory) and `guest=<name>`
    /// on its command line, and the QEMUProcess that finds it there.
    static func standIn() throws -> (String, Process, QEMUProcess) {
        let name = "vp-watch-\(UInt32.random(in: 0...UInt32.max))"
        let dir = try ScratchDirectory.make("qemu-watch")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", "import time; time.sleep(60)", "guest=\(name),debug-threads=on"]
        try process.run()
        try "\(process.processIdentifier)".write(toFile: "\(dir)/\(name).pid", atomically: true, encoding: .utf8)
        let qemu = QEMUProcess(pidDirectory: dir)
        #expect(qemu.state(of: name) == .running(process.processIdentifier))
        return (name, process, qemu)
    }
}
