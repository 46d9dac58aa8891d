import Libvirt
import LibvirtXML
import Reconciler

/// Checked before every attach: no running domain other than the receiver, on any host, carries
/// the MAC or has the volume open. A violation stops the move with nothing attached.
/// Domains whose QEMU has exited on this host are not asked (nor is the fenced source): they cannot
/// send or write, while libvirt may still be cleaning them up and would make every query wait.
public enum DeviceGuard {
    public static func check(nics: [InterfaceSpec], disks: [DiskSpec], receiver: String, receiverHost: String,
                             fenced: (name: String, host: String)? = nil, hosts: Hosts) throws {
        let macs = Set(nics.map { $0.mac.lowercased() })
        var volumes: [String: String] = [:] // "pool/volume" or path → "pool/volume"
        for disk in disks {
            guard case .volume(let pool, let volume) = disk.source else { continue }
            volumes["\(pool)/\(volume)"] = "\(pool)/\(volume)"
            if let path = try? hosts.connection(receiverHost).storagePool(named: pool).volume(named: volume).path() {
                volumes[path] = "\(pool)/\(volume)"
            }
        }
        for host in hosts.names {
            let connection: Connection
            do { connection = try hosts.connection(host) } catch {
                throw FailoverError("cannot check host \(host) for other holders of the personality's MACs and volumes: \(error)")
            }
            for domain in try connection.domains() {
                guard !(host == receiverHost && domain.name == receiver), !(host == fenced?.host && domain.name == fenced?.name),
                      !hasNoLocalQEMU(domain.name, host: host, hosts: hosts), (try? domain.isActive()) == true,
                      let xml = try? domain.xml(), let facts = try? DomainFacts(xml: xml) else { continue }
                if let nic = facts.nics.first(where: { macs.contains($0.mac) }) {
                    throw FailoverError("MAC \(nic.mac) is carried by running domain \(domain.name) on \(host); it is not given to \(receiver) (one MAC lives on one running processor)")
                }
                if let disk = facts.disks.first(where: { volumes[$0.source] != nil }) {
                    throw FailoverError("volume \(volumes[disk.source]!) is open in running domain \(domain.name) on \(host) as \(disk.target); it is not given to \(receiver) (one writer per volume)")
                }
            }
        }
    }

    private static func hasNoLocalQEMU(_ name: String, host: String, hosts: Hosts) -> Bool {
        guard let uri = hosts.uri(of: host), !Hosts.isRemote(uri) else { return false }
        if case .exited = QEMUProcess.state(of: name) { return true }
        return false
    }
}
