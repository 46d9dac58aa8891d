import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
import SystemSupport
#endif

/// What reading a file on this host told: its bytes, that it does not exist, or nothing at all
/// (permission, I/O error, no descriptor left). Only `missing` is a fact; `unreadable` tells nothing.
public enum FileRead: Sendable, Equatable {
    case contents([UInt8])
    case missing
    case unreadable(String)
}

/// This host's kernel and libvirt run directory as failover sees them: /proc, libvirt's pid and
/// status files, and the one thing done to a process (a signal). A protocol so that the rule
/// "unknown means unsafe" can be tested with files that cannot be read.
public protocol LocalProcesses: Sendable {
    func read(_ path: String) -> FileRead
    /// The names in `directory` ([] when it does not exist); throws when it cannot be listed.
    func list(_ directory: String) throws -> [String]
    /// Sends `signal` to `pid`; false when it could not be sent.
    func signal(_ pid: pid_t, _ signal: Int32) -> Bool
}

/// The real host: plain read(2), because Foundation's String(contentsOfFile:) closes its
/// descriptor three times (seen with strace), closing whatever another thread opened in between,
/// such as a pidfd of the process watcher.
public struct SystemProcesses: LocalProcesses {
    public init() {}

    public func read(_ path: String) -> FileRead {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            // ESRCH: a /proc/<pid> entry whose process went away as it was opened.
            return errno == ENOENT || errno == ESRCH ? .missing : .unreadable("\(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        // /proc files report size 0: read until end of file.
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = Glibc.read(fd, &buffer, buffer.count)
            if n == 0 { return .contents(result) }
            if n < 0 {
                return errno == ESRCH ? .missing : .unreadable("\(path): \(String(cString: strerror(errno)))")
            }
            result += buffer[0..<n]
        }
    }

    public func list(_ directory: String) throws -> [String] {
        guard let dir = opendir(directory) else {
            if errno == ENOENT { return [] }
            throw PlatformError(.unavailable, nil, "cannot list \(directory): \(String(cString: strerror(errno)))")
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    public func signal(_ pid: pid_t, _ signal: Int32) -> Bool { kill(pid, signal) == 0 }
}

/// The QEMU process behind a domain on this host, found through libvirt's pid file and checked
/// against its command line (a recycled pid is never taken for it). Fails closed: a file that
/// cannot be read makes the answer `unknown`, never `exited`.
public struct QEMUProcess: Sendable {
    public enum State: Sendable, Equatable {
        case running(pid_t)
        /// Confirmed: every thread of the process libvirt's pid file names is gone (or the pid now
        /// belongs to another program, so the QEMU that had it is long gone).
        case exited(pid_t)
        /// No pid file: libvirt does not run it here (or it runs on another host).
        case notRunning
        /// A file that would tell could not be read: it may be running. Treated as running.
        case unknown(String)
    }

    public static let runDirectory = "/run/libvirt/qemu"
    public static let system = QEMUProcess()
    public let host: any LocalProcesses
    /// Where libvirt's pid files are: its run directory, or a test's own (a stand-in QEMU's pid
    /// file in libvirt's would be a domain to every serve and test on the host).
    public let pidDirectory: String

    public init(_ host: any LocalProcesses = SystemProcesses(), pidDirectory: String = QEMUProcess.runDirectory) {
        self.host = host
        self.pidDirectory = pidDirectory
    }

    public func state(of domain: String) -> State {
        let pid: pid_t
        switch host.read("\(pidDirectory)/\(domain).pid") {
        case .missing: return .notRunning
        case .unreadable(let why): return .unknown("libvirt's pid file of \(domain): \(why)")
        case .contents(let bytes):
            guard let p = pid_t(String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)), p > 0
            else { return .unknown("libvirt's pid file of \(domain) names no process") }
            pid = p
        }
        switch exit(of: pid) {
        case .yes: return .exited(pid)
        case .unknown(let why): return .unknown("the state of QEMU process \(pid) of \(domain) cannot be read: \(why)")
        case .no: break
        }
        switch host.read("/proc/\(pid)/cmdline") {
        case .missing: return exited(pid) == true ? .exited(pid) : .unknown("QEMU process \(pid) of \(domain) vanished as it was read")
        case .unreadable(let why): return .unknown("the command line of QEMU process \(pid) of \(domain): \(why)")
        case .contents(let cmdline):
            // A zombie leader whose threads still run has an empty command line: the QEMU is
            // dying, not gone (its pid cannot be reused while it is a zombie).
            if cmdline.isEmpty { return .running(pid) }
            let args = cmdline.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            // A pid recycled by another program means the QEMU is long gone.
            return args.contains { $0 == "guest=\(domain)" || $0.hasPrefix("guest=\(domain),") } ? .running(pid) : .exited(pid)
        }
    }

    public func pid(of domain: String) -> pid_t? {
        if case .running(let pid) = state(of: domain) { return pid }
        return nil
    }

    /// Every thread has exited (the leader is a zombie with no threads left, or it is gone): no
    /// guest code runs and no device is open. What fencing waits for. nil: cannot tell.
    public func exited(_ pid: pid_t) -> Bool? {
        if case .yes = exit(of: pid) { return true }
        if case .no = exit(of: pid) { return false }
        return nil
    }

    /// The main thread has exited (zombie or gone). After SIGKILL this comes ~4 ms after the
    /// signal; the last of QEMU's threads goes ~40 ms later, once its memory is torn down.
    /// nil: cannot tell.
    public func leaderExited(_ pid: pid_t) -> Bool? {
        switch leader(of: pid) {
        case .gone, .zombie: return true
        case .alive: return false
        case .unknown: return nil
        }
    }

    private enum Exit { case yes, no, unknown(String) }
    private enum Leader { case gone, zombie, alive, unknown(String) }

    private func exit(of pid: pid_t) -> Exit {
        switch leader(of: pid) {
        case .gone: return .yes
        case .alive: return .no
        case .unknown(let why): return .unknown(why)
        case .zombie:
            switch host.read("/proc/\(pid)/status") {
            case .missing: return .yes // reaped in between
            case .unreadable(let why): return .unknown(why)
            case .contents(let status):
                let line = String(decoding: status, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("Threads:") }
                guard let threads = line.flatMap({ Int($0.dropFirst(8).trimmingCharacters(in: .whitespaces)) }) else {
                    return .unknown("/proc/\(pid)/status has no thread count")
                }
                return threads <= 1 ? .yes : .no
            }
        }
    }

    private func leader(of pid: pid_t) -> Leader {
        switch host.read("/proc/\(pid)/stat") {
        case .missing: return .gone
        case .unreadable(let why): return .unknown(why)
        case .contents(let bytes):
            let stat = String(decoding: bytes, as: UTF8.self)
            guard let close = stat.lastIndex(of: ")"), stat.distance(from: close, to: stat.endIndex) > 2 else {
                return .unknown("/proc/\(pid)/stat cannot be parsed")
            }
            return stat[stat.index(close, offsetBy: 2)...].hasPrefix("Z") ? .zombie : .alive
        }
    }

    // This host's processes, for callers that need no seam (benchmarks, tests).
    public static func state(of domain: String) -> State { system.state(of: domain) }
    public static func pid(of domain: String) -> pid_t? { system.pid(of: domain) }
}
