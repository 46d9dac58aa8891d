import LibvirtXML
import PlatformRender

/// One step that changes libvirt on a host.
public enum Action: Sendable, Equatable {
    case defineNetwork(NetworkSpec)
    case startNetwork(String)
    case addDHCPHost(network: String, DHCPHost)
    case removeDHCPHost(network: String, DHCPHost)
    case removeNetwork(String)
    /// Replaces a network whose bridge, address or forwarding changed.
    case recreateNetwork(NetworkSpec)
    /// Defines a pool; `build` creates its directory (which does not exist).
    case definePool(StoragePoolSpec, build: Bool)
    case startPool(String)
    /// Takes the running pool's directory for the platform: refuses a directory holding files
    /// the platform did not create, and puts the platform's marker volume in it. `adopting`: the
    /// volumes of a pool this platform created before it recorded volumes (see `StoragePlan`).
    case claimPool(String, adopting: [String])
    case createVolume(pool: String, VolumeSpec)
    /// Deletes a volume the platform created (the only volumes it ever deletes).
    case deleteVolume(pool: String, String)
    /// Stops and undefines a pool; its directory is removed only when empty.
    case removePool(String)
    case defineDomain(DomainSpec)
    case attachDevice(domain: String, xml: String, live: Bool)
    case detachDevice(domain: String, xml: String, live: Bool)
    case startDomain(String)
    case stopDomain(String)
    case removeDomain(String)
}

/// A change to one object, as shown by `vpctl plan`, with the actions that make it.
public struct Change: Sendable, CustomStringConvertible {
    public enum Verb: String, Sendable, Codable { case create, update, delete }
    public var verb: Verb
    public var host: String
    /// e.g. "network demo-front", "processor p1".
    public var object: String
    /// Why, one line per difference ("interface 02:56:50:… on demo-front is missing").
    public var reasons: [String]
    public var actions: [Action]
    /// Networks and storage (0) come before processors (1); see `Applier` for the full order.
    var phase: Int

    public var description: String {
        let head = "\(verb.rawValue) \(object) on \(host)"
        return reasons.isEmpty ? head : head + ": " + reasons.joined(separator: "; ")
    }
}

/// The difference between what the definition wants and what libvirt holds.
public struct Plan: Sendable {
    public var changes: [Change]
    public init(changes: [Change]) { self.changes = changes }
    public var isEmpty: Bool { changes.isEmpty }

    /// Processors this plan stops or removes (a restart counts).
    public var stoppedProcessors: [String] {
        changes.flatMap { change in
            change.actions.compactMap { action -> String? in
                switch action {
                case .stopDomain(let name), .removeDomain(let name): return name
                default: return nil
                }
            }
        }
    }
}

enum Planner {
    /// `owns` says whether an object found in libvirt belongs to the platform (by its UUID);
    /// `owned` holds the volumes the platform created on this host ("pool/volume").
    /// Returns the changes and the problems that forbid applying them.
    static func plan(host: String, desired: DesiredState, actual: ActualState, owned: Set<String>,
                     owns: (_ kind: String, _ name: String, _ uuid: String) -> Bool) -> (changes: [Change], problems: [String]) {
        var changes: [Change] = []
        let wantedNetworks = desired.networks.filter { $0.host == host }
        let wantedPools = desired.pools.filter { $0.host == host }
        let wantedProcessors = desired.processors.filter { $0.host == host }

        // Networks.
        for net in wantedNetworks {
            let spec = net.spec
            guard let have = actual.networks[spec.name] else {
                changes.append(Change(verb: .create, host: host, object: "network \(spec.name)",
                                      reasons: ["bridge \(spec.bridge), \(spec.address)/\(spec.prefix), \(spec.hosts.count) DHCP reservations"],
                                      actions: [.defineNetwork(spec), .startNetwork(spec.name)], phase: 0))
                continue
            }
            var reasons: [String] = []
            var actions: [Action] = []
            let shape = have.bridge == spec.bridge && have.address == spec.address && have.prefix == spec.prefix
                && have.forwardMode == forwardMode(spec.mode)
            if !shape {
                reasons.append("bridge/address/forwarding differ (\(have.bridge) \(have.address ?? "-")/\(have.prefix.map(String.init) ?? "-") → \(spec.bridge) \(spec.address)/\(spec.prefix)); recreated")
                actions = [.recreateNetwork(spec)]
            } else {
                let want = Set(spec.hosts.map { ActualState.DHCPHostKey(mac: $0.mac.lowercased(), ip: $0.ip) })
                for extra in have.hosts.subtracting(want).sorted() {
                    reasons.append("DHCP reservation \(extra.mac) → \(extra.ip) is not wanted")
                    actions.append(.removeDHCPHost(network: spec.name, DHCPHost(mac: extra.mac, ip: extra.ip)))
                }
                for host in spec.hosts where !have.hosts.contains(.init(mac: host.mac.lowercased(), ip: host.ip)) {
                    reasons.append("DHCP reservation \(host.mac) → \(host.ip) is missing")
                    actions.append(.addDHCPHost(network: spec.name, host))
                }
                if !have.active { reasons.append("not running"); actions.append(.startNetwork(spec.name)) }
            }
            if !actions.isEmpty {
                changes.append(Change(verb: .update, host: host, object: "network \(spec.name)", reasons: reasons, actions: actions, phase: 0))
            }
        }

        let storage = planPools(host: host, platform: desired.platform, wanted: wantedPools, actual: actual,
                                owned: owned, owns: owns)
        changes += storage.changes

        // Processors.
        for proc in wantedProcessors {
            let spec = proc.spec
            let want = DomainFacts(spec: spec)
            let role = proc.personality.map { "carries \($0)" } ?? proc.role.rawValue
            guard let have = actual.domains[spec.name] else {
                var actions: [Action] = [.defineDomain(spec)]
                if proc.running { actions.append(.startDomain(spec.name)) }
                changes.append(Change(verb: .create, host: host, object: "processor \(spec.name)",
                                      reasons: ["\(role), \(spec.interfaces.count) NICs, \(spec.disks.count) disks"], actions: actions, phase: 1))
                continue
            }
            var reasons: [String] = []
            var actions: [Action] = []
            if have.definition.hardware != want.hardware {
                reasons.append(describeHardware(have.definition, want))
                actions.append(.defineDomain(spec))
                if have.active { reasons.append("restart needed"); actions += [.stopDomain(spec.name)] }
            } else {
                // Devices: hot-plugged into a running processor (and its definition).
                let live = have.active
                for nic in have.definition.nics.subtracting(want.nics).sorted() {
                    reasons.append("interface \(nic.mac) on \(nic.network) is not wanted")
                    actions.append(.detachDevice(domain: spec.name, xml: InterfaceSpec(network: nic.network, mac: nic.mac).render(), live: live))
                }
                for nic in spec.interfaces where !have.definition.nics.contains(.init(mac: nic.mac.lowercased(), network: nic.network)) {
                    reasons.append("interface \(nic.mac) on \(nic.network) is missing")
                    actions.append(.attachDevice(domain: spec.name, xml: nic.render(), live: live))
                }
                for disk in have.definition.disks.subtracting(want.disks).sorted() {
                    reasons.append("disk \(disk.target) (\(disk.source), \(disk.format)) is not wanted")
                    let parts = disk.source.split(separator: "/", maxSplits: 1).map(String.init)
                    let source: DiskSpec.Source = parts.count == 2 && !disk.source.hasPrefix("/")
                        ? .volume(pool: parts[0], volume: parts[1]) : .file(path: disk.source)
                    let xml = DiskSpec(source: source, target: disk.target, format: disk.format).render()
                    actions.append(.detachDevice(domain: spec.name, xml: xml, live: live))
                }
                for disk in spec.disks {
                    let facts = DomainFacts(spec: DomainSpec(name: "", type: "", memoryMiB: 0, kernel: "", initrd: nil, cmdline: "", disks: [disk])).disks.first!
                    if !have.definition.disks.contains(facts) {
                        reasons.append("disk \(disk.target) (\(facts.source), \(facts.format)) is missing")
                        actions.append(.attachDevice(domain: spec.name, xml: disk.render(), live: live))
                    }
                }
            }
            let willRun = have.active && !actions.contains { if case .stopDomain = $0 { return true }; return false }
            if proc.running && !willRun {
                if !have.active { reasons.append("not running") }
                actions.append(.startDomain(spec.name))
            } else if !proc.running && have.active {
                reasons.append(proc.role == .failed ? "failed: kept off until repaired" : "running but should be a cold standby")
                actions.append(.stopDomain(spec.name))
            }
            if !actions.isEmpty {
                changes.append(Change(verb: .update, host: host, object: "processor \(spec.name)", reasons: reasons, actions: actions, phase: 1))
            }
        }

        // Deletions: objects the platform owns that the definition no longer has.
        let wantedDomainNames = Set(wantedProcessors.map(\.spec.name))
        for dom in actual.domains.values.sorted(by: { $0.name < $1.name })
        where !wantedDomainNames.contains(dom.name) && owns("domain", dom.name, dom.uuid) {
            changes.append(Change(verb: .delete, host: host, object: "processor \(dom.name)", reasons: ["no longer defined"],
                                  actions: [.removeDomain(dom.name)], phase: 2))
        }
        let wantedNetworkNames = Set(wantedNetworks.map(\.spec.name))
        for net in actual.networks.values.sorted(by: { $0.name < $1.name })
        where !wantedNetworkNames.contains(net.name) && owns("network", net.name, net.uuid) {
            changes.append(Change(verb: .delete, host: host, object: "network \(net.name)", reasons: ["no longer defined"],
                                  actions: [.removeNetwork(net.name)], phase: 3))
        }
        return (changes, storage.problems + HostChecks.problems(host: host, desired: desired, actual: actual, changes: changes))
    }

    static func forwardMode(_ mode: NetworkSpec.Mode) -> String? {
        switch mode {
        case .isolated: return nil
        case .routed: return "route"
        case .nat: return "nat"
        case .open: return "open"
        }
    }

    static func describeHardware(_ have: DomainFacts, _ want: DomainFacts) -> String {
        let names = ["type", "memory (KiB)", "vCPUs", "kernel", "initrd", "kernel command line", "personality", "platform"]
        return zip(names, zip(have.hardware, want.hardware)).filter { $0.1.0 != $0.1.1 }
            .map { "\($0.0) \($0.1.0 ?? "none") → \($0.1.1 ?? "none")" }.joined(separator: ", ")
    }
}
