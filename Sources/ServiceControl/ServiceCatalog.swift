import PlatformModel
import ServiceBalancing
import ServiceDataPlane
import SystemSupport

/// The platform's services as the definition and the remembered addresses make them: who the
/// members are and at which address the host reaches each. Pure; turns a set of healthy
/// personalities into the ruleset the kernel should hold.
public struct ServiceCatalog: Sendable {
    public struct Member: Sendable, Equatable {
        public var personality: String
        /// The member's address on the service VLAN: where the kernel sends its flows.
        public var backend: String
        public var weight: Int
    }

    public struct Entry: Sendable {
        public var definition: ServiceIPDef
        public var vlan: String
        public var members: [Member]
        public var chain: String
        public var seed: UInt32
        /// Maglev table over every member: the shares when all are healthy.
        public var table: MaglevTable

        public var name: String { definition.name }
        public var tableSize: Int { definition.tableSize ?? ServiceIPDef.defaultTableSize }
    }

    public let platform: String
    public let table: String
    public let routedBridges: [String]
    public let entries: [Entry]

    /// - Parameter allocations: the remembered NIC allocations ("personality/vlan" → MAC, IP).
    public init(definition p: PlatformDefinition, allocations: [String: NICAllocation]) throws {
        platform = p.platform
        table = ServiceRuleset.tableName(platform: p.platform)
        let routed = p.serviceRoutedVLANs
        routedBridges = p.vlans.filter { routed.contains($0.name) }.map { Naming.bridge(platform: p.platform, vlan: $0) }.sorted()
        var chains: Set<String> = []
        entries = try (p.services ?? []).map { s in
            guard let vlan = s.backendVLAN(in: p) else { throw PlatformError(.invalidInput, "service '\(s.name)'", field: "members", "they share no VLAN") }
            let members = try s.members.map { person -> Member in
                guard let ip = allocations[NICAllocation.key(personality: person, vlan: vlan)]?.ip else {
                    throw PlatformError(.conflict, "service '\(s.name)'", "member '\(person)' has no address on VLAN '\(vlan)' yet (run vpctl apply)")
                }
                return Member(personality: person, backend: ip, weight: s.weights?[person] ?? 1)
            }
            var chain = ServiceRuleset.identifier("svc_", s.name)
            while !chains.insert(chain).inserted { chain += "_" }
            let table = try MaglevTable(backends: members.map { MaglevBackend(name: $0.personality, weight: $0.weight) },
                                        size: s.tableSize ?? ServiceIPDef.defaultTableSize)
            return Entry(definition: s, vlan: vlan, members: members, chain: chain,
                         seed: UInt32(truncatingIfNeeded: Naming.stableHash("\(p.platform)/\(s.name)")), table: table)
        }
    }

    public func entry(named name: String) -> Entry? { entries.first { $0.name == name } }

    /// The kernel's view of one service when only `healthy` personalities may take flows: each
    /// slot keeps its member while that member is in; the slots of a member that is out go to the
    /// Maglev table of the healthy ones. Each healthy member's fallback is prepared for it being
    /// the next to leave (the table of the others), so that leaving is a one-rule change.
    public func rules(for e: Entry, healthy: Set<String>) -> ServiceRuleset.Service {
        let names = e.members.map(\.personality)
        let up = Set(names).intersection(healthy)
        // The table's backend order → the members' order (the order of `backends` in the rules).
        let memberIndex = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($0.element, Int32($0.offset)) })
        func translated(_ t: MaglevTable) -> [Int32] {
            let map = t.backends.map { memberIndex[$0.name] ?? -1 }
            return t.entries.map { $0 >= 0 ? map[Int($0)] : -1 }
        }
        let primary = translated(e.table)
        var slotsOf = [[Int32]](repeating: [], count: names.count)
        for (slot, m) in primary.enumerated() where m >= 0 { slotsOf[Int(m)].append(Int32(slot)) }
        var cache: [Set<String>: [Int32]] = [:]
        func restricted(_ set: Set<String>) -> [Int32] {
            if let t = cache[set] { return t }
            let t = translated(e.table.restricted(to: set))
            cache[set] = t
            return t
        }
        let fallback = names.enumerated().map { i, name in
            let table = restricted(up.contains(name) ? up.subtracting([name]) : up)
            return slotsOf[i].map { ServiceRuleset.SlotTarget(slot: $0, backend: table[Int($0)]) }
        }
        return ServiceRuleset.Service(
            name: e.name, chain: e.chain, address: e.definition.address, port: e.definition.port,
            l4: e.definition.transport == .udp ? .udp : .tcp, hashSourcePort: e.definition.hashSourcePort ?? false,
            seed: e.seed, backends: e.members.map(\.backend), primary: primary, healthy: names.map { up.contains($0) },
            fallback: fallback)
    }

    /// The ruleset when each service takes the members healthy for it (see `ServiceHealth.healthy(in:)`).
    public func ruleset(health: ServiceHealth) -> ServiceRuleset {
        ServiceRuleset(table: table, routedBridges: routedBridges,
                       services: entries.map { rules(for: $0, healthy: health.healthy(in: $0)) })
    }
}
