import Foundation
import Libvirt
import LibvirtXML
import Reconciler
import SystemSupport

/// Checked before every attach: no running domain other than the receiver, on any host, carries
/// the MAC or has the volume open. A violation stops the move with nothing attached.
/// Domains whose QEMU has exited are not running holders (nor is the fenced source): they cannot
/// send or write. A domain that cannot be told running or exited counts as a holder: the attach
/// is refused until it can (unknown means unsafe).
public enum DeviceGuard {
    public static func check(nics: [InterfaceSpec], disks: [DiskSpec], receiver: String, receiverHost: String,
                             fenced: (name: String, host: String)? = nil, hosts: Hosts, processes: QEMUProcess = .system) throws {
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
            for (name, facts) in try runningDomains(on: host, hosts: hosts, processes: processes)
            where !(host == receiverHost && name == receiver) && !(host == fenced?.host && name == fenced?.name) {
                if let nic = facts.nics.first(where: { macs.contains($0.mac) }) {
                    throw PlatformError(.conflict, "MAC \(nic.mac)",
                                        "carried by running domain \(name) on \(host); it is not given to \(receiver) (one MAC lives on one running processor)")
                }
                if let disk = facts.disks.first(where: { volumes[$0.source] != nil }) {
                    throw PlatformError(.conflict, "volume \(volumes[disk.source]!)",
                                        "open in running domain \(name) on \(host) as \(disk.target); it is not given to \(receiver) (one writer per volume)")
                }
            }
        }
    }

    /// The live definition of every running domain on `host`. On this host it is read from the
    /// status file libvirt keeps for each running QEMU domain: while libvirt cleans up a killed
    /// domain (~1.5 s here) listing domains through the API waits for it, and a failover must not.
    /// Throws when a domain's state or definition cannot be read: it may hold anything.
    static func runningDomains(on host: String, hosts: Hosts, processes: QEMUProcess) throws -> [(String, DomainFacts)] {
        if let uri = hosts.uri(of: host), !Hosts.isRemote(uri), uri.hasPrefix("qemu:") {
            let dir = QEMUProcess.runDirectory
            let names = try processes.host.list(dir).filter { $0.hasSuffix(".pid") && $0 != "driver.pid" }.map { String($0.dropLast(4)) }
            return try names.compactMap { name in
                switch processes.state(of: name) {
                case .exited, .notRunning: return nil
                case .unknown(let why):
                    throw PlatformError(.unavailable, "domain \(name) on \(host)", "cannot tell whether it still runs (\(why)); nothing is attached until it can")
                case .running:
                    switch processes.host.read("\(dir)/\(name).xml") {
                    case .missing:
                        // libvirt writes the status file before it starts QEMU and removes it after the
                        // QEMU is gone: a running QEMU without one is not something to guess about.
                        if case .running = processes.state(of: name) {
                            throw PlatformError(.unavailable, "domain \(name) on \(host)", "runs but libvirt's status file of it is missing; nothing is attached")
                        }
                        return nil
                    case .unreadable(let why):
                        throw PlatformError(.unavailable, "domain \(name) on \(host)", "cannot read what it holds (\(why)); nothing is attached")
                    case .contents(let bytes):
                        do { return (name, try DomainFacts(xml: String(decoding: bytes, as: UTF8.self))) } catch {
                            throw PlatformError(.internal, "domain \(name) on \(host)", "cannot read what it holds (its status file: \(error)); nothing is attached")
                        }
                    }
                }
            }
        }
        let connection: Connection
        do { connection = try hosts.connection(host) } catch {
            throw PlatformError(.unavailable, "host '\(host)'", "cannot check it for other holders of the personality's MACs and volumes: \(error)")
        }
        return try connection.domains().compactMap { domain in
            do {
                guard try domain.isActive() else { return nil }
                return (domain.name, try DomainFacts(xml: try domain.xml()))
            } catch let e as LibvirtError where e.isNotFound {
                return nil // undefined while we listed: holds nothing
            } catch {
                throw PlatformError(ErrorKind(of: error), "domain \(domain.name) on \(host)", "cannot read what it holds (\(error)); nothing is attached")
            }
        }
    }
}
