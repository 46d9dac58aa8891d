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
        let wantedNetworks = desired.networks.filter { $0.host == host }
        let wantedPools = desired.pools.filter { $0.host == host }
        let wantedProcessors = desired.processors.filter { $0.host == host }

        var changes = wantedNetworks.compactMap { planNetwork($0.spec, host: host, have: actual.networks[$0.spec.name]) }
        let storage = planPools(host: host, platform: desired.platform, wanted: wantedPools, actual: actual,
                                owned: owned, owns: owns)
        changes += storage.changes
        changes += wantedProcessors.compactMap { planProcessor($0, host: host, have: actual.domains[$0.spec.name]) }
        changes += planRemovedProcessors(host: host, wanted: wantedProcessors, actual: actual, owns: owns)
        changes += planRemovedNetworks(host: host, wanted: wantedNetworks, actual: actual, owns: owns)
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
