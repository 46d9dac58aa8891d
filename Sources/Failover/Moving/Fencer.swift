import Foundation
import Libvirt
#if canImport(Glibc)
import Glibc
#endif

/// Makes sure a processor is off before anything it held is given to another: the guarantee
/// behind "one writer per volume, one carrier per MAC".
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

    public static func fence(_ name: String, on hosts: Hosts, host: String, planned: Bool) async -> Outcome {
        guard let uri = hosts.uri(of: host) else { return .unconfirmed("host \(host) is unknown") }
        if !Hosts.isRemote(uri), case .exited(let pid) = QEMUProcess.state(of: name) {
            return .off("QEMU process \(pid) had exited")
        }
        if !Hosts.isRemote(uri), let pid = QEMUProcess.pid(of: name) {
            if planned, let domain = try? hosts.connection(host).domain(named: name) {
                try? domain.shutdown()
                if await waitGone(pid, for: gracePeriod) { return .off("shut down by its guest") }
            }
            if QEMUProcess.hasExited(pid) { return .off("QEMU process \(pid) had exited") }
            kill(pid, SIGKILL)
            if await waitGone(pid, for: .seconds(5)) { return .off("QEMU process \(pid) killed (SIGKILL) and gone") }
            return .unconfirmed("QEMU process \(pid) of \(name) did not exit after SIGKILL")
        }
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

    private static func waitGone(_ pid: pid_t, for limit: Duration) async -> Bool {
        await poll(every: .milliseconds(5), for: limit) { QEMUProcess.hasExited(pid) }
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
        return false
    }
}
