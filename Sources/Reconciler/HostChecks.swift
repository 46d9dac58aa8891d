import LibvirtXML
import PlatformModel
import PlatformRender

/// What `plan` can tell from the host before anything is created: a bridge name already in use,
/// a subnet already on the host, a processor bigger than the host. Failures only `apply` meets
/// are rolled back (`Reconciler.apply`).
enum HostChecks {
    static func problems(host: String, desired: DesiredState, actual: ActualState, changes: [Change]) -> [String] {
        var problems: [String] = []
        let facts = actual.host
        let creates = changes.flatMap(\.actions).compactMap { action -> NetworkSpec? in
            switch action {
            case .defineNetwork(let spec), .recreateNetwork(let spec): return spec
            default: return nil
            }
        }
        // The platform's own networks (being replaced or not) hold their bridges and addresses.
        let ownNetworks = Set(desired.networks.filter { $0.host == host }.map(\.spec.name))
        let ownBridges = Set(actual.networks.values.filter { ownNetworks.contains($0.name) }.map(\.bridge))
        // Every created network is checked against the host's: maps and the short list of others,
        // not a search of all networks per network.
        let byBridge = Dictionary(grouping: actual.networks.values, by: \.bridge)
        let others = actual.networks.values.filter { !ownNetworks.contains($0.name) }
        for spec in creates {
            if let other = byBridge[spec.bridge]?.first(where: { $0.name != spec.name }) {
                problems.append("network \(spec.name) on \(host): bridge \(spec.bridge) is the bridge of libvirt network '\(other.name)'")
            } else if let interfaces = facts.interfaces {
                if interfaces.contains(spec.bridge) && !ownBridges.contains(spec.bridge) {
                    problems.append("network \(spec.name) on \(host): bridge \(spec.bridge) is already an interface of the host")
                }
            } else {
                problems.append("network \(spec.name) on \(host): cannot list the host's interfaces "
                    + "(\(facts.unreadable.joined(separator: "; "))), so bridge \(spec.bridge) cannot be checked")
            }
            guard let address = IPv4Address(spec.address) else { continue }
            for other in others where other.name != spec.name {
                guard let a = other.address.flatMap(IPv4Address.init), let prefix = other.prefix,
                      HostFacts.Address(address: a, prefix: prefix, interface: "").overlaps(address, prefix: spec.prefix) else { continue }
                problems.append("network \(spec.name) on \(host): subnet \(spec.address)/\(spec.prefix) "
                    + "overlaps libvirt network '\(other.name)' (\(a)/\(prefix))")
            }
            for hostAddress in facts.addresses where !ownBridges.contains(hostAddress.interface)
            && hostAddress.overlaps(address, prefix: spec.prefix) {
                problems.append("network \(spec.name) on \(host): subnet \(spec.address)/\(spec.prefix) "
                    + "overlaps \(hostAddress.address)/\(hostAddress.prefix) on host interface \(hostAddress.interface)")
            }
        }
        let defined = changes.flatMap(\.actions).compactMap { action -> DomainSpec? in
            if case .defineDomain(let spec) = action { return spec } else { return nil }
        }
        for spec in defined {
            guard let node = facts.node else {
                let why = facts.unreadable.joined(separator: "; ")
                problems.append("processor \(spec.name) on \(host): cannot read the host's CPUs and memory (\(why))")
                continue
            }
            let (kib, overflow) = UInt64(max(spec.memoryMiB, 0)).multipliedReportingOverflow(by: 1024)
            if overflow || kib > node.memoryKiB {
                let have = node.memoryKiB / 1024
                problems.append("processor \(spec.name) on \(host): memoryMiB \(spec.memoryMiB) is more than the host has (\(have) MiB)")
            }
            if spec.vcpus > node.cpus {
                problems.append("processor \(spec.name) on \(host): vcpus \(spec.vcpus) is more than the host has (\(node.cpus))")
            }
        }
        return problems
    }
}
