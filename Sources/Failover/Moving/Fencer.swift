import Foundation
import Libvirt
#if canImport(Glibc)
import Glibc
#endif

/// Makes sure a processor is off before anything it held is given to another: the guarantee
/// behind "one writer per volume, one carrier per MAC". It reports `off` only on proof; when a
/// file that would tell cannot be read, the answer is `unconfirmed` and the move keeps fencing.
public enum Fencer {
    public enum Outcome: Sendable, Equatable {
        case off(String)
        /// It could not be confirmed off; an administrator must vouch.
        case unconfirmed(String)
    }

    /// Stops `name` and confirms it is off. A planned move first asks the guest to shut down (ACPI)
    /// and gives it `gracePeriod`; the processor image does not act on ACPI power-off yet, so today
    /// a planned move ends in the same kill as a failure.
    ///
    /// On this host the QEMU process is killed (SIGKILL) and watched until it is gone: that is
    /// proof no guest code runs and no device is open. libvirt's destroy would wait 10 s before
    /// it SIGKILLs a hung (stopped) QEMU, and answers no query about a dying domain for ~1.5 s.
    /// On a remote host libvirt's destroy and its report of "shut off" are the proof.
    public static let gracePeriod: Duration = .seconds(5)

    public static func fence(_ name: String, on hosts: Hosts, host: String, planned: Bool,
                             processes: QEMUProcess = .system, killWait: Duration = .seconds(5)) async -> Outcome {
        guard let uri = hosts.uri(of: host) else { return .unconfirmed("host \(host) is unknown") }
        guard !Hosts.isRemote(uri) else { return await throughLibvirt(name, on: hosts, host: host, planned: planned) }
        switch processes.state(of: name) {
        case .exited(let pid):
            return .off("QEMU process \(pid) had exited")
        case .running(let pid):
            if planned, let domain = try? hosts.connection(host).domain(named: name) {
                try? domain.shutdown()
                if await waitGone(pid, processes, for: gracePeriod) { return .off("shut down by its guest") }
            }
            if processes.exited(pid) == true { return .off("QEMU process \(pid) had exited") }
            _ = processes.host.signal(pid, SIGKILL)
            if await waitGone(pid, processes, for: killWait) { return .off("QEMU process \(pid) killed (SIGKILL) and gone") }
            let now = describe(processes.state(of: name))
            return .unconfirmed("QEMU process \(pid) of \(name) is not confirmed gone after SIGKILL (\(now))")
        case .notRunning:
            return await throughLibvirt(name, on: hosts, host: host, planned: planned)
        case .unknown(let why):
            // A pid that cannot be checked is not signalled (it may be another program's):
            // libvirt, which knows its own process, stops it, and the proof is still ours to read.
            let libvirt = await throughLibvirt(name, on: hosts, host: host, planned: planned)
            let after = processes.state(of: name)
            switch (libvirt, after) {
            case (.off(let how), .exited), (.off(let how), .notRunning): return .off(how)
            case (.off(let how), _): return .unconfirmed("libvirt says \(name) is off (\(how)), but its QEMU process is \(describe(after))")
            case (.unconfirmed(let how), _): return .unconfirmed("\(why); \(how)")
            }
        }
    }

    private static func describe(_ state: QEMUProcess.State) -> String {
        switch state {
        case .running(let pid): "still running (pid \(pid))"
        case .exited(let pid): "gone (pid \(pid))"
        case .notRunning: "not run by libvirt"
        case .unknown(let why): "unknown: \(why)"
        }
    }

    private static func throughLibvirt(_ name: String, on hosts: Hosts, host: String, planned: Bool) async -> Outcome {
        do {
            guard let domain = try hosts.connection(host).domainIfPresent(named: name) else { return .off("not defined on \(host)") }
            if let status = try? domain.status(), !status.isActive { return .off("already \(status)") }
            if planned {
                try? domain.shutdown()
                if await waitOff(domain, for: gracePeriod) { return .off("shut down by its guest") }
            }
            do { try domain.destroy() } catch let e as LibvirtError where !e.isConnectionFailure {
                // "not running" races with the guest stopping: the confirmation below decides.
            }
            if await waitOff(domain, for: .seconds(15)) { return .off("destroyed through libvirt") }
            return .unconfirmed("libvirt still reports \(name) as \((try? domain.status().description) ?? "unknown") after destroy")
        } catch {
            return .unconfirmed("cannot reach host \(host) to stop \(name): \(error)")
        }
    }

    private static func waitGone(_ pid: pid_t, _ processes: QEMUProcess, for limit: Duration) async -> Bool {
        await poll(every: .milliseconds(5), for: limit) { processes.exited(pid) == true }
    }

    private static func waitOff(_ domain: Domain, for limit: Duration) async -> Bool {
        await poll(every: .milliseconds(20), for: limit) { (try? domain.status()).map { !$0.isActive } ?? false }
    }

    private static func poll(every step: Duration, for limit: Duration, _ done: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if done() { return true }
            try? await Task.sleep(for: step)
        }
        return done()
    }
}
