import Hosts
import LibvirtXML
import SystemSupport

/// Checked before every attach: no running domain other than the receiver, on any host, carries
/// the MAC or has the volume open. A violation stops the move with nothing attached.
/// Domains whose QEMU has exited are not running holders (nor is the fenced source): they cannot
/// send or write. A domain that cannot be told running or exited counts as a holder: the attach
/// is refused until it can (unknown means unsafe).
public enum DeviceGuard {
    public static func check(nics: [InterfaceSpec], disks: [DiskSpec], receiver: String, receiverHost: String,
                             fenced: (name: String, host: String)? = nil, hosts: PlatformHosts) async throws {
        let macs = Set(nics.map { $0.mac.lowercased() })
        var volumes: [String: String] = [:] // "pool/volume" or path → "pool/volume"
        for disk in disks {
            guard case .volume(let pool, let volume) = disk.source else { continue }
            volumes["\(pool)/\(volume)"] = "\(pool)/\(volume)"
            if let path = await (try? hosts.host(receiverHost))?.volumePath(pool: pool, volume: volume) {
                volumes[path] = "\(pool)/\(volume)"
            }
        }
        for host in hosts.all {
            let running: [String: DomainDevices]
            do { running = try await host.runningDomains() } catch {
                throw PlatformError(ErrorKind(of: error) == .internal ? .unavailable : ErrorKind(of: error), "host '\(host.name)'",
                                    "cannot check it for other holders of the personality's MACs and volumes: \(error); nothing is attached")
            }
            for (name, devices) in running.sorted(by: { $0.key < $1.key })
            where !(host.name == receiverHost && name == receiver) && !(host.name == fenced?.host && name == fenced?.name) {
                if let nic = devices.nics.first(where: { macs.contains($0.mac) }) {
                    throw PlatformError(.conflict, "MAC \(nic.mac)", "carried by running domain \(name) on \(host.name); it is not given to \(receiver) (one MAC lives on one running processor)")
                }
                if let disk = devices.disks.first(where: { volumes[$0.source] != nil }) {
                    throw PlatformError(.conflict, "volume \(volumes[disk.source]!)", "open in running domain \(name) on \(host.name) as \(disk.target); it is not given to \(receiver) (one writer per volume)")
                }
            }
        }
    }
}
