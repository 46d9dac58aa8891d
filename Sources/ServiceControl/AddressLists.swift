import PlatformModel
import ServiceBalancing
import SystemSupport

/// Reference 003: for one client processor, a service's addresses in the order the client should
/// try them: its own first, then by the administrator's network priority for the service (highest
/// first) when one is set, else by hop distance; equally good addresses are sorted by address and
/// rotated by the client's node number, so clients spread over them.
public struct OrderedAddress: Sendable, Equatable, Codable {
    public var address: String
    public var vlan: String
    public var personality: String
    /// The processor carrying it (nil: none right now).
    public var processor: String?
    public var local: Bool
    /// 0 on the client itself, 1 on a VLAN the client is on.
    public var hops: Int
    public var priority: Int?
}

public struct AddressList: Sendable, Equatable, Codable {
    public var service: String
    public var client: String
    /// The client's node number: its position in `processors.members`, from 1.
    public var node: Int
    public var addresses: [OrderedAddress]
    /// Addresses left out, with why (not reachable from the client, member not healthy).
    public var excluded: [String: String]
}

public enum AddressLists {
    public static func list(service: ServiceIPDef, client: String, definition p: PlatformDefinition,
                            allocations: [String: NICAllocation], health: ServiceHealth) throws -> AddressList {
        guard let node = p.processors.members.firstIndex(where: { $0.name == client }).map({ $0 + 1 }) else {
            throw PlatformError(.notFound, "processor '\(client)'", "not in the platform")
        }
        let clientPersonality = health.carriers.first { $0.value == client }?.key
        let clientVLANs = Set(p.personalities.first { $0.name == clientPersonality }?.nics.map(\.vlan) ?? [])
        let priorities = service.networkPriority ?? [:]
        var candidates: [CandidateAddress<IPv4Address>] = []
        var info: [IPv4Address: OrderedAddress] = [:]
        var excluded: [String: String] = [:]
        let backendVLAN = service.backendVLAN(in: p)
        for member in service.members {
            guard let person = p.personalities.first(where: { $0.name == member }) else { continue }
            let backend = backendVLAN.flatMap { allocations[NICAllocation.key(personality: member, vlan: $0)]?.ip }
            let memberReason = health.reason(service: service.name, member: member, backend: backend)
            for nic in person.nics {
                guard let ip = allocations[NICAllocation.key(personality: member, vlan: nic.vlan)]?.ip, let key = IPv4Address(ip) else { continue }
                if let why = memberReason { excluded[ip] = "\(member): \(why)"; continue }
                let local = member == clientPersonality
                guard local || clientVLANs.contains(nic.vlan) else {
                    excluded[ip] = "\(client) has no NIC on VLAN '\(nic.vlan)' (a VLAN excludes non-members)"
                    continue
                }
                let priority = priorities[nic.vlan]
                candidates.append(CandidateAddress(address: key, isLocal: local, hops: local ? 0 : 1, priority: priority))
                info[key] = OrderedAddress(address: ip, vlan: nic.vlan, personality: member, processor: health.carriers[member],
                                           local: local, hops: local ? 0 : 1, priority: priority)
            }
        }
        let ordered = AddressOrdering.order(candidates, clientNode: node).compactMap { info[$0] }
        return AddressList(service: service.name, client: client, node: node, addresses: ordered, excluded: excluded)
    }
}
