import Foundation
import Libvirt
import ServiceDataPlane
import SystemSupport

/// Can this controller enforce port security (`PortSecurityRuleset`) on a platform's hosts? The
/// rules live in the kernel of the host whose bridges carry the NICs, and the controller programs
/// its own host's nftables only.
public enum PortSecurity {
    public struct Unavailable: KindedError, Sendable, Equatable {
        public var kind: ErrorKind { .unavailable }
        public var object: String? { "host '\(host)'" }
        public var host: String
        public var cause: String
        public init(host: String, cause: String) { self.host = host; self.cause = cause }
        public var description: String {
            "host '\(host)' cannot enforce port security on personality NICs (a guest could send with another "
                + "personality's MAC or address, or answer DHCP): \(cause); nothing was changed"
        }
    }

    /// Programs (and removes) a throwaway bridge-family table with the rules of one sample port, in
    /// one transaction: the kernel takes exactly the rule shapes the platform's table uses, or says why not.
    public static func probeKernel() throws {
        let probe = PortSecurityRuleset(platform: "port_security_probe",
                                        ports: [.init(tap: "vpprobe", mac: "02:00:00:00:00:01", ip: "192.0.2.1")])
        let plane: DataPlane
        do { plane = try DataPlane() } catch { throw Unavailable(host: "local", cause: "\(error)") }
        do {
            try plane.nft.apply(probe.replaceTable() + PortSecurityRuleset.deleteTable(probe.table))
        } catch {
            throw Unavailable(host: "local", cause: "nftables refuses bridge-family rules: \(error)")
        }
    }

    /// Throws `Unavailable` for the first host where the rules cannot be enforced: a remote host
    /// (its bridges are in another kernel), or a local kernel without nftables' bridge family.
    public static func requireEnforceable(hosts: [(name: String, uri: String)]) throws {
        for host in hosts where LibvirtURI.isAnotherMachine(host.uri) {
            throw Unavailable(host: host.name, cause: "it is remote (\(host.uri)), and this controller programs the "
                              + "nftables of its own host only")
        }
        guard hosts.contains(where: { !LibvirtURI.isMock($0.uri) }) else { return }
        do { try probeKernel() } catch var unavailable as Unavailable {
            unavailable.host = hosts.first { !LibvirtURI.isMock($0.uri) }!.name
            throw unavailable
        }
    }

    /// The `vpctl doctor` line for the host at `uri`.
    public static func check(uri: String) -> DoctorCheck {
        if LibvirtURI.isMock(uri) { return DoctorCheck("port security", .ok, "\(uri) runs no guests: nothing to filter") }
        guard LibvirtURI.isThisMachine(uri) else {
            return DoctorCheck("port security", .failed, "\(uri) is remote: the controller programs its own host's nftables only",
                               fix: "run the controller on the host whose bridges carry the NICs")
        }
        do {
            try probeKernel()
            return DoctorCheck("port security", .ok,
                               "nftables bridge family: NICs keep to their MAC and address, answer no DHCP, announce no other address")
        } catch {
            return DoctorCheck("port security", .failed, "\(error)",
                               fix: "a kernel with nf_tables bridge support (CONFIG_NF_TABLES_BRIDGE) and nftables installed")
        }
    }
}
