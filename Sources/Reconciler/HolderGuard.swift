import LibvirtXML
import PlatformRender

/// One MAC lives on at most one running processor, and one volume has at most one writer:
/// before a plan gives a MAC or a volume to a processor that runs (by starting it or
/// hot-plugging a device), no other running domain on any host may hold it, unless the same
/// plan takes it away first. Running domains are judged by their live definition, so devices
/// hot-plugged by hand count.
enum HolderGuard {
    static func problems(changes: [Change], desired: DesiredState, actual: [String: ActualState]) -> [String] {
        // Domains this plan stops or removes, and devices it detaches, release what they hold first.
        var releasedDomains = Set<String>()
        var releasedDevices = Set<String>()
        for change in changes {
            for action in change.actions {
                switch action {
                case .stopDomain(let name), .removeDomain(let name): releasedDomains.insert("\(change.host)/\(name)")
                case .detachDevice(let name, let xml, _):
                    if let device = DeviceRelease.device(in: xml) { releasedDevices.insert("\(change.host)/\(name)/\(device)") }
                default: break
                }
            }
        }
        let volumes = VolumeIndex(actual)
        var macHolders: [String: String] = [:]    // mac → "domain on host"
        var volumeHolders: [String: String] = [:] // volume key → "domain on host"
        for (host, state) in actual {
            for dom in state.domains.values where dom.active && !releasedDomains.contains("\(host)/\(dom.name)") {
                let facts = dom.live ?? dom.definition
                let holder = "\(dom.name) on \(host)"
                for nic in facts.nics where !releasedDevices.contains("\(host)/\(dom.name)/\(DeviceRelease.Device.nic(mac: nic.mac))") {
                    macHolders[nic.mac] = holder
                }
                for disk in facts.disks
                where !releasedDevices.contains("\(host)/\(dom.name)/\(DeviceRelease.Device.disk(target: disk.target))") {
                    volumeHolders[volumes.key(disk.source, host: host)] = holder
                }
            }
        }
        // Looked up for every processor the plan starts: a map, not a search of the processors.
        let wanted = Dictionary(desired.processors.map { (Receiver(host: $0.host, name: $0.spec.name), $0.spec) },
                                uniquingKeysWith: { first, _ in first })
        var problems: [String] = []
        for change in changes {
            for action in change.actions {
                let receiver: String
                switch action {
                case .startDomain(let name), .attachDevice(let name, _, true): receiver = name
                default: continue
                }
                guard let spec = wanted[Receiver(host: change.host, name: receiver)] else { continue }
                let me = "\(receiver) on \(change.host)"
                for mac in spec.interfaces.map({ $0.mac.lowercased() }) {
                    if let holder = macHolders[mac], holder != me {
                        problems.append("MAC \(mac) is carried by running domain \(holder); refusing to give it to processor \(me) "
                            + "(one MAC lives on one running processor). Stop that domain or change the MAC")
                    }
                }
                for disk in DomainFacts(spec: spec).disks {
                    let key = volumes.key(disk.source, host: change.host)
                    if let holder = volumeHolders[key], holder != me {
                        problems.append("volume \(disk.source) is open in running domain \(holder); refusing to give it to processor \(me) "
                            + "as \(disk.target) (one writer per volume). Stop that domain or detach the volume")
                    }
                }
            }
        }
        return Array(Set(problems)).sorted()
    }

    private struct Receiver: Hashable { var host: String, name: String }

    /// Whether the plan starts a processor or hot-plugs into one (only then are holders read).
    static func givesDevices(_ changes: [Change]) -> Bool {
        changes.contains { $0.actions.contains { action in
            switch action {
            case .startDomain, .attachDevice(_, _, true): return true
            default: return false
            }
        } }
    }

    /// Which pool volume a file is, on each host: built once per check, not searched per disk.
    struct VolumeIndex {
        private var byPath: [String: [String: String]] = [:] // host → path → "pool/volume"

        init(_ actual: [String: ActualState]) {
            for (host, state) in actual {
                for pool in state.pools.values {
                    for (volume, path) in pool.volumePaths { byPath[host, default: [:]][path] = "\(pool.name)/\(volume)" }
                }
            }
        }

        /// "pool/volume" for a pool volume or a file that is one (on that host), else the file on its host.
        func key(_ source: String, host: String) -> String {
            guard source.hasPrefix("/") else { return source }
            return byPath[host]?[source] ?? "\(host):\(source)"
        }
    }
}
