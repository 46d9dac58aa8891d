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
        /// libvirt could not confirm the domain is off; an administrator must vouch.
        case unconfirmed(String)
    }

    /// Stops `name` and confirms through libvirt that it is shut off. A planned move first asks
    /// the guest to shut down. On a local host a hung QEMU (stopped, or not answering) gets
    /// SIGKILL straight away: libvirt's destroy would wait 10 s for a stopped process to take
    /// SIGTERM before it sends SIGKILL itself.
    public static func fence(_ name: String, on hosts: Hosts, host: String, planned: Bool) async -> Outcome {
        let domain: Domain
        do {
            guard let d = try hosts.connection(host).domainIfPresent(named: name) else { return .off("not defined on \(host)") }
            domain = d
            if let status = try? domain.status(), !status.isActive { return .off("already \(status)") }
            if planned {
                try? domain.shutdown()
                if await waitOff(domain, for: .seconds(20)) { return .off("shut down by its guest") }
            }
            var how = "destroyed through libvirt"
            if let uri = hosts.uri(of: host), !Hosts.isRemote(uri), killLocalQEMU(name) { how = "QEMU killed (SIGKILL), then destroyed through libvirt" }
            do { try domain.destroy() } catch let e as LibvirtError where !e.isConnectionFailure {
                // "not running" races with the kill: the confirmation below decides.
            }
            if await waitOff(domain, for: .seconds(15)) { return .off(how) }
            return .unconfirmed("libvirt still reports \(name) as \((try? domain.status().description) ?? "unknown") after destroy")
        } catch {
            return .unconfirmed("cannot reach host \(host) to stop \(name): \(error)")
        }
    }

    private static func waitOff(_ domain: Domain, for limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if let status = try? domain.status(), !status.isActive { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    /// SIGKILL to the domain's QEMU, found through libvirt's pid file and checked against its
    /// command line (a recycled pid is left alone). True when a signal was sent.
    static func killLocalQEMU(_ name: String) -> Bool {
        guard let text = try? String(contentsOfFile: "/run/libvirt/qemu/\(name).pid", encoding: .utf8),
              let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)),
              let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let args = cmdline.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        guard args.contains(where: { $0 == "guest=\(name)" || $0.hasPrefix("guest=\(name),") }) else { return false }
        return kill(pid, SIGKILL) == 0
    }
}
