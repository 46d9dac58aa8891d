import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Libvirt
import PlatformHarness

/// This host's libvirtd, stopped and started again the way scripts/bootstrap-host.sh starts it
/// on a machine without systemd (`libvirtd -d`).
enum Libvirtd {
    static let pidFile = "/run/libvirtd.pid"

    /// The running daemon's pid (checked against its name: a stale pid file names nothing).
    static func pid() -> pid_t? {
        guard case .bytes(let b) = File.read(pidFile),
              let pid = pid_t(String(decoding: b, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)),
              case .bytes(let comm) = File.read("/proc/\(pid)/comm"),
              String(decoding: comm, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == "libvirtd",
              alive(pid) else { return nil }
        return pid
    }

    /// Stops libvirtd (with `signal`; SIGKILL after 15 s) and starts it again; `stopped` runs
    /// once it is gone. Returns the milliseconds from the stop until qemu:///system answers again.
    static func restart(signal: Int32 = SIGTERM, stopped: () throws -> Void = {}) async throws -> Double {
        guard let pid = pid() else { throw BenchError("libvirtd does not run (no live pid in \(pidFile))") }
        let stoppedAt = ContinuousClock.now
        kill(pid, signal)
        if !(await gone(pid, within: .seconds(15))) {
            kill(pid, SIGKILL)
            guard await gone(pid, within: .seconds(5)) else { throw BenchError("libvirtd (pid \(pid)) did not stop") }
        }
        try stopped()
        try await start()
        return (ContinuousClock.now - stoppedAt).seconds * 1000
    }

    /// Starts libvirtd unless it runs, and waits until qemu:///system answers (30 s).
    static func start() async throws {
        if pid() == nil {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/sbin/libvirtd")
            p.arguments = ["-d"]
            try p.run()
            // `-d` forks the daemon and returns.
            let deadline = ContinuousClock.now + .seconds(10)
            while p.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            if let c = try? Connection(uri: "qemu:///system") {
                defer { c.close() }
                if (try? c.domains()) != nil { return }
            }
            guard ContinuousClock.now < deadline else { throw BenchError("libvirtd does not answer on qemu:///system 30 s after its start") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Neither gone nor a zombie (nothing may reap a daemon on a machine without an init system).
    private static func alive(_ pid: pid_t) -> Bool {
        guard case .bytes(let b) = File.read("/proc/\(pid)/stat"), let close = b.lastIndex(of: UInt8(ascii: ")")),
              b.count > close + 2 else { return false }
        return b[close + 2] != UInt8(ascii: "Z")
    }

    private static func gone(_ pid: pid_t, within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if !alive(pid) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }
}
