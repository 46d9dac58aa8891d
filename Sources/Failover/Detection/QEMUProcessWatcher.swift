import CProcessWatch
import Foundation
import Hosts
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

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
            // Unknown is not exited: the heartbeats judge a QEMU whose /proc entry cannot be read.
            for (name, w) in current where QEMUProcess.system.leaderExited(w.pid) == true {
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
