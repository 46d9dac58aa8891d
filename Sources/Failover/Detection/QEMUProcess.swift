import CProcessWatch
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The QEMU process behind a domain on this host, found through libvirt's pid file and checked
/// against its command line (a recycled pid is never taken for it).
public enum QEMUProcess {
    public enum State: Sendable, Equatable {
        case running(pid_t)
        /// libvirt's pid file names a process that is gone or a zombie.
        case exited(pid_t)
        /// No pid file: libvirt does not run it (or it runs on another host).
        case unknown
    }

    public static func state(of domain: String) -> State {
        // Read with plain read(2): Foundation's String(contentsOfFile:) closes its descriptor
        // three times (seen with strace), closing whatever another thread opened in between,
        // such as a pidfd of this watcher.
        guard let bytes = read("/run/libvirt/qemu/\(domain).pid"),
              let pid = pid_t(String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        else { return .unknown }
        guard let cmdline = read("/proc/\(pid)/cmdline"), !cmdline.isEmpty, !hasExited(pid) else { return .exited(pid) }
        let args = cmdline.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        // A pid recycled by another program means the QEMU is long gone.
        return args.contains { $0 == "guest=\(domain)" || $0.hasPrefix("guest=\(domain),") } ? .running(pid) : .exited(pid)
    }

    public static func pid(of domain: String) -> pid_t? {
        if case .running(let pid) = state(of: domain) { return pid }
        return nil
    }

    /// A whole /proc file (they report size 0, so read until end of file).
    static func read(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = Glibc.read(fd, &buffer, buffer.count)
            if n <= 0 { return n == 0 ? result : nil }
            result += buffer[0..<n]
        }
    }

    /// Every thread has exited (the leader is a zombie with no threads left, or it is gone):
    /// no guest code runs and no device is open. What fencing waits for.
    public static func hasExited(_ pid: pid_t) -> Bool {
        guard leaderExited(pid) else { return false }
        guard let status = read("/proc/\(pid)/status") else { return true }
        let threads = String(decoding: status, as: UTF8.self).split(separator: "\n")
            .first { $0.hasPrefix("Threads:") }.flatMap { Int($0.dropFirst(8).trimmingCharacters(in: .whitespaces)) }
        return (threads ?? 0) <= 1
    }

    /// The main thread has exited (zombie or gone). After SIGKILL this comes ~4 ms after the
    /// signal; the last of QEMU's threads goes ~40 ms later, once its memory is torn down.
    public static func leaderExited(_ pid: pid_t) -> Bool {
        guard let bytes = read("/proc/\(pid)/stat") else { return true }
        let stat = String(decoding: bytes, as: UTF8.self)
        guard let close = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(close, offsetBy: 2)...].hasPrefix("Z")
    }
}

/// Watches the QEMU processes of local processors: a QEMU that dies is reported within
/// milliseconds. Its main thread is checked every 5 ms (it is a zombie ~4 ms after SIGKILL) and
/// a pidfd wakes the watcher when the last thread is gone. libvirt reports the same death too,
/// but only after ~1.5 s of clean-up on these machines, and a hung QEMU never at all (the
/// heartbeats catch that).
public final class QEMUProcessWatcher: Sendable {
    private struct Watched { var pid: pid_t; var descriptor: OwnedDescriptor; var fd: Int32 { descriptor.fd } }
    private let sink: @Sendable (Detection) -> Void
    private let watched = Mutex<[String: Watched]>([:])
    private let stopped = Mutex(false)

    public init(sink: @escaping @Sendable (Detection) -> Void) {
        self.sink = sink
        let thread = Thread { [self] in run() }
        thread.name = "qemu-process-watch"
        thread.qualityOfService = .userInteractive
        thread.start()
    }

    /// Watches exactly these domains (those whose QEMU runs); re-reads their pids.
    public func update(_ domains: [String]) {
        let pids = Dictionary(domains.compactMap { name in QEMUProcess.pid(of: name).map { (name, $0) } }, uniquingKeysWith: { a, _ in a })
        watched.withLock { watched in
            for (name, w) in watched where pids[name] != w.pid {
                w.descriptor.close()
                watched[name] = nil
            }
            for (name, pid) in pids where watched[name] == nil {
                if let pidfd = OwnedDescriptor(vp_pidfd_open(pid)) { watched[name] = Watched(pid: pid, descriptor: pidfd) }
            }
        }
    }

    /// The domains whose QEMU is watched now.
    public var watching: [String] { watched.withLock { $0.keys.sorted() } }

    public func stop() {
        stopped.withLock { $0 = true }
        update([])
    }

    private func run() {
        while !stopped.withLock({ $0 }) {
            let current = watched.withLock { $0 }
            // A pidfd closed behind our back only costs its wake-up: the main-thread check below decides.
            var fds = current.values.filter(\.descriptor.isIntact).map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            _ = poll(&fds, nfds_t(fds.count), 5)
            for (name, w) in current where QEMUProcess.leaderExited(w.pid) {
                let gone = watched.withLock { watched -> Bool in
                    guard let now = watched[name], now.fd == w.fd else { return false }
                    now.descriptor.close()
                    watched[name] = nil
                    return true
                }
                if gone {
                    sink(Detection(subject: name, kind: .processorFailed(reason: "QEMU process \(w.pid) exited"), source: .hypervisor))
                }
            }
        }
    }
}
