import CProcessWatch
import Foundation
import Hosts
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Watches the QEMU processes of local processors: a QEMU that dies is reported within
/// milliseconds. libvirt reports the same death too, but only after ~1.5 s of clean-up on these
/// machines, and a hung QEMU never at all (the heartbeats catch that).
///
/// The kernel tells the watcher of every process exit as it happens (`ProcessExits`, the netlink
/// process connector): QEMU's main thread is a zombie ~4 ms after SIGKILL, long before its last
/// thread is gone and its pidfd wakes. So an idle watcher sleeps: measured in `vp-bench
/// daemon-idle`, polling the main threads every 5 ms was ~40 % of an idle daemon's CPU. Where the
/// kernel or our privileges do not allow the connector, it polls every 5 ms as before.
public final class QEMUProcessWatcher: Sendable {
    private struct Watched { var pid: pid_t; var descriptor: OwnedDescriptor; var fd: Int32 { descriptor.fd } }
    private let sink: @Sendable (Detection) -> Void
    private let watched = Mutex<[String: Watched]>([:])
    private let stopped = Mutex(false)
    private let exits: ProcessExits?
    /// Wakes the thread when what is watched changes or it must stop.
    private let wake: OwnedDescriptor?
    private let lookCount = Atomic<Int>(0)

    /// How the watcher learns of deaths: from the kernel's exit events, else by polling.
    public enum Mode: Sendable, Equatable { case exitEvents, polling }
    public let mode: Mode

    private let processes: QEMUProcess

    /// `exitEvents: false` polls even where the kernel could tell (to test that path).
    public init(processes: QEMUProcess = .system, exitEvents: Bool = true, sink: @escaping @Sendable (Detection) -> Void) {
        self.sink = sink
        self.processes = processes
        exits = exitEvents ? ProcessExits() : nil
        mode = exits == nil ? .polling : .exitEvents
        wake = OwnedDescriptor(vp_wakeup_open())
        let thread = Thread { [self] in run() }
        thread.name = "qemu-process-watch"
        thread.qualityOfService = .userInteractive
        thread.start()
    }

    /// Watches exactly these domains (those whose QEMU runs); re-reads their pids.
    public func update(_ domains: [String]) {
        let pids = Dictionary(domains.compactMap { name in processes.pid(of: name).map { (name, $0) } }, uniquingKeysWith: { a, _ in a })
        watched.withLock { watched in
            for (name, w) in watched where pids[name] != w.pid {
                w.descriptor.close()
                watched[name] = nil
            }
            for (name, pid) in pids where watched[name] == nil {
                if let pidfd = OwnedDescriptor(vp_pidfd_open(pid)) { watched[name] = Watched(pid: pid, descriptor: pidfd) }
            }
        }
        signal()
    }

    /// The domains whose QEMU is watched now.
    public var watching: [String] { watched.withLock { $0.keys.sorted() } }

    /// How many times the watched processes were looked at in /proc (each look reads every one).
    public var looks: Int { lookCount.load(ordering: .relaxed) }

    public func stop() {
        stopped.withLock { $0 = true }
        update([])
    }

    private func signal() {
        guard let wake, wake.isIntact else { return }
        var one: UInt64 = 1
        _ = write(wake.fd, &one, 8)
    }

    private func run() {
        // With exit events, a look every second anyway: an exit before a pid was watched, or
        // events the kernel dropped, cost at most that.
        let backstop: Int32 = exits == nil ? 5 : 1000
        var lookedAt = ContinuousClock.now
        while !stopped.withLock({ $0 }) {
            let current = watched.withLock { $0 }
            // A pidfd closed behind our back only costs its wake-up: the main-thread check below decides.
            var fds = current.values.filter(\.descriptor.isIntact).map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            if let exits { fds.append(pollfd(fd: exits.fd, events: Int16(POLLIN), revents: 0)) }
            if let wake, wake.isIntact { fds.append(pollfd(fd: wake.fd, events: Int16(POLLIN), revents: 0)) }
            _ = poll(&fds, nfds_t(fds.count), backstop)
            if let wake, wake.isIntact { var count: UInt64 = 0; _ = read(wake.fd, &count, 8) }
            let pidfdWoke = fds.contains { f in f.revents != 0 && current.values.contains { $0.fd == f.fd } }
            let due = ContinuousClock.now - lookedAt >= .milliseconds(Int64(backstop))
            let exited = exits?.read() ?? .everything
            let look: Bool = switch exited {
            case .everything: true
            case .some(let pids): pidfdWoke || due || current.values.contains { pids.contains($0.pid) }
            }
            guard look else { continue }
            lookedAt = ContinuousClock.now
            lookCount.add(1, ordering: .relaxed)
            // Unknown is not exited: the heartbeats judge a QEMU whose /proc entry cannot be read.
            for (name, w) in current where processes.leaderExited(w.pid) == true {
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
        wake?.close()
        exits?.close()
    }
}

/// The kernel's process exit events (netlink process connector), filtered in the kernel to
/// processes (not threads). nil where the kernel lacks them or we may not listen (CAP_NET_ADMIN).
struct ProcessExits: Sendable {
    private let socket: OwnedDescriptor
    var fd: Int32 { socket.fd }

    init?() {
        guard let socket = OwnedDescriptor(vp_process_exits_open()) else { return nil }
        self.socket = socket
    }

    enum Exited: Sendable { case some(Set<pid_t>), everything }

    /// The processes that exited since the last read; `.everything` when some exits were lost
    /// (or the socket is no longer ours), so that every watched process must be looked at.
    func read() -> Exited {
        guard socket.isIntact else { return .everything }
        var pids = [pid_t](repeating: 0, count: 256)
        var overflowed: Int32 = 0
        let n = vp_process_exits_read(fd, &pids, Int32(pids.count), &overflowed)
        guard n >= 0, overflowed == 0 else { return .everything }
        return .some(Set(pids.prefix(Int(n))))
    }

    func close() { socket.close() }
}
