import Foundation
import Libvirt
import LibvirtXML
import Reconciler

/// Checked before every attach: no running domain other than the receiver, on any host, carries
/// the MAC or has the volume open. A violation stops the move with nothing attached.
/// Domains whose QEMU has exited are not running holders (nor is the fenced source): they cannot
/// send or write.
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
            for (name, facts) in try runningDomains(on: host, hosts: hosts)
            where !(host == receiverHost && name == receiver) && !(host == fenced?.host && name == fenced?.name) {
                if let nic = facts.nics.first(where: { macs.contains($0.mac) }) {
                    throw FailoverError("MAC \(nic.mac) is carried by running domain \(name) on \(host); it is not given to \(receiver) (one MAC lives on one running processor)")
                }
                if let disk = facts.disks.first(where: { volumes[$0.source] != nil }) {
                    throw FailoverError("volume \(volumes[disk.source]!) is open in running domain \(name) on \(host) as \(disk.target); it is not given to \(receiver) (one writer per volume)")
                }
            }
        }
    }

    /// The live definition of every running domain on `host`. On this host it is read from the
    /// status file libvirt keeps for each running QEMU domain: while libvirt cleans up a killed
    /// domain (~1.5 s here) listing domains through the API waits for it, and a failover must not.
    static func runningDomains(on host: String, hosts: Hosts) throws -> [(String, DomainFacts)] {
        if let uri = hosts.uri(of: host), !Hosts.isRemote(uri), uri.hasPrefix("qemu:") {
            let dir = "/run/libvirt/qemu"
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
                .filter { $0.hasSuffix(".pid") && $0 != "driver.pid" }.map { String($0.dropLast(4)) }
            return names.compactMap { name in
                guard case .running = QEMUProcess.state(of: name), let bytes = QEMUProcess.read("\(dir)/\(name).xml"),
                      let facts = try? DomainFacts(xml: String(decoding: bytes, as: UTF8.self)) else { return nil }
                return (name, facts)
            }
        }
        let connection: Connection
        do { connection = try hosts.connection(host) } catch {
            throw FailoverError("cannot check host \(host) for other holders of the personality's MACs and volumes: \(error)")
        }
        return try connection.domains().compactMap { domain in
            guard (try? domain.isActive()) == true, let xml = try? domain.xml(), let facts = try? DomainFacts(xml: xml) else { return nil }
            return (domain.name, facts)
        }
    }
}
