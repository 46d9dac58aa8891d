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
    @Test(arguments: [true, false])
    func aProcessThatDiesIsReported(exitEvents: Bool) async throws {
        let (name, process) = try Self.standIn()
        defer { Self.remove(name, process) }

        let seen = Mutex<[(Detection, ContinuousClock.Instant)]>([])
        let watcher = QEMUProcessWatcher(exitEvents: exitEvents) { d in seen.withLock { $0.append((d, .now)) } }
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
        #expect(QEMUProcess.state(of: name) == .exited(process.processIdentifier))
    }

    /// An idle watcher sleeps: it looks at a living QEMU about once a second (its backstop), not
    /// every 5 ms, even while other processes on the host come and go.
    @Test func anIdleWatcherLooksOnlyWhenAProcessExits() async throws {
        let (name, process) = try Self.standIn()
        defer { Self.remove(name, process) }
        let watcher = QEMUProcessWatcher { _ in }
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

    /// A stand-in QEMU for domain `name`: libvirt's pid file and `guest=<name>` on its command line.
    static func standIn() throws -> (String, Process) {
        let name = "vp-watch-\(UInt32.random(in: 0...UInt32.max))"
        let dir = "/run/libvirt/qemu"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", "import time; time.sleep(60)", "guest=\(name),debug-threads=on"]
        try process.run()
        try "\(process.processIdentifier)".write(toFile: "\(dir)/\(name).pid", atomically: true, encoding: .utf8)
        #expect(QEMUProcess.state(of: name) == .running(process.processIdentifier))
        return (name, process)
    }

    static func remove(_ name: String, _ process: Process) {
        try? FileManager.default.removeItem(atPath: "/run/libvirt/qemu/\(name).pid")
        process.terminate()
    }
}
