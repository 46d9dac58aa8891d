import LibvirtXML
import PlatformRender

/// One MAC lives on at most one running processor: before a plan gives a MAC to a processor that
/// runs (by starting it or hot-plugging a NIC), no other running domain on any host may carry it,
/// unless the same plan takes it away first.
enum MACGuard {
    static func check(changes: [Change], desired: DesiredState, actual: [String: ActualState]) throws {
        // Domains this plan stops or removes, and NICs it detaches, release their MACs first.
        var releasedDomains = Set<String>()
        var releasedNICs = Set<String>()
        for change in changes {
            for action in change.actions {
                switch action {
                case .stopDomain(let name), .removeDomain(let name): releasedDomains.insert("\(change.host)/\(name)")
                case .detachDevice(let name, let xml, _): releasedNICs.insert("\(change.host)/\(name)/\(xml)")
                default: break
                }
            }
        }
        var holders: [String: String] = [:] // mac → "domain on host"
        for (host, state) in actual {
            for dom in state.domains.values where dom.active && !releasedDomains.contains("\(host)/\(dom.name)") {
                for nic in dom.definition.nics {
                    let detach = InterfaceSpec(network: nic.network, mac: nic.mac).render()
                    if !releasedNICs.contains("\(host)/\(dom.name)/\(detach)") { holders[nic.mac] = "\(dom.name) on \(host)" }
                }
            }
        }
        for change in changes {
            for action in change.actions {
                let (receiver, macs): (String, [String])
                switch action {
                case .startDomain(let name):
                    let spec = desired.processors.first { $0.host == change.host && $0.spec.name == name }?.spec
                    (receiver, macs) = (name, spec?.interfaces.map { $0.mac.lowercased() } ?? [])
                case .attachDevice(let name, _, true):
                    let spec = desired.processors.first { $0.host == change.host && $0.spec.name == name }?.spec
                    (receiver, macs) = (name, spec?.interfaces.map { $0.mac.lowercased() } ?? [])
                default:
                    continue
                }
                for mac in macs {
                    if let holder = holders[mac], holder != "\(receiver) on \(change.host)" {
                        throw ReconcileError("MAC \(mac) is carried by running domain \(holder); refusing to give it to processor \(receiver) on \(change.host) (one MAC lives on one running processor). Stop that domain or change the MAC; nothing was changed.")
                    }
                }
            }
        }
    }
}
