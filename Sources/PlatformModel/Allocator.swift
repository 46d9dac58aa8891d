import SystemSupport
/// What the platform chose for a NIC that did not name its MAC or IP; remembered in the state
/// store so the same NIC keeps the same addresses across applies.
public struct NICAllocation: Codable, Sendable, Equatable, Hashable {
    /// "personality/vlan".
    public var key: String
    public var mac: String
    public var ip: String
    public init(key: String, mac: String, ip: String) { self.key = key; self.mac = mac; self.ip = ip }

    public static func key(personality: String, vlan: String) -> String { "\(personality)/\(vlan)" }
}

/// Gives every NIC of a validated definition its MAC and IP: the ones written in the file,
/// else the remembered ones, else new ones.
///
/// New MACs are the platform prefix plus 24 bits of a stable hash of "platform/personality/vlan",
/// probing upward on collision; new IPs are the first free host address from .10 of the VLAN's
/// subnet. Both are deterministic: the same file and the same memory give the same result.
public enum Allocator {
    public struct Result: Sendable, Equatable {
        /// Every NIC's addresses, keyed by "personality/vlan".
        public var nics: [String: NICAllocation]
        /// The allocations that were not remembered before (to store).
        public var new: [NICAllocation]
    }

    public static func allocate(_ p: PlatformDefinition, remembered: [String: NICAllocation]) throws -> Result {
        let prefix = MACAddress(p.effectiveMACPrefix + ":00:00:00")!.bytes.prefix(3)
        var usedMACs = Set<MACAddress>()
        var usedIPs = Set<IPv4Address>()
        for vlan in p.vlans {
            if let subnet = IPv4Subnet(vlan.subnet) { usedIPs.insert(vlan.gateway.flatMap(IPv4Address.init) ?? subnet.firstHost) }
        }
        // Addresses written in the file win; then those remembered for NICs still defined.
        var nics: [String: NICAllocation] = [:]
        var pending: [(key: String, vlan: VLANDef, nic: NICDef)] = []
        for person in p.personalities {
            for nic in person.nics {
                if let mac = nic.mac.flatMap({ MACAddress($0.lowercased()) }), !nic.wantsAllocatedMAC { usedMACs.insert(mac) }
                if let ip = nic.ip.flatMap(IPv4Address.init) { usedIPs.insert(ip) }
            }
        }
        let vlanNamed = Dictionary(p.vlans.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for person in p.personalities {
            for nic in person.nics {
                guard let vlan = vlanNamed[nic.vlan] else { continue }
                let key = NICAllocation.key(personality: person.name, vlan: nic.vlan)
                pending.append((key, vlan, nic))
            }
        }
        var new: [NICAllocation] = []
        // Remembered allocations first, so a new NIC can never take a remembered address.
        var rememberedUse: [String: (MACAddress?, IPv4Address?)] = [:]
        for item in pending {
            guard let old = remembered[item.key] else { continue }
            let mac = item.nic.wantsAllocatedMAC ? MACAddress(old.mac).flatMap { usedMACs.insert($0).inserted ? $0 : nil } : nil
            let ip = item.nic.ip == nil ? IPv4Address(old.ip).flatMap { ip -> IPv4Address? in
                guard let subnet = IPv4Subnet(item.vlan.subnet), subnet.containsHost(ip), usedIPs.insert(ip).inserted else { return nil }
                return ip
            } : nil
            rememberedUse[item.key] = (mac, ip)
        }
        for item in pending {
            let reuse = rememberedUse[item.key]
            let mac: MACAddress
            if !item.nic.wantsAllocatedMAC, let given = item.nic.mac.flatMap({ MACAddress($0.lowercased()) }) {
                mac = given
            } else if let kept = reuse?.0 {
                mac = kept
            } else {
                mac = try newMAC(prefix: Array(prefix), seed: "\(p.platform)/\(item.key)", used: &usedMACs)
            }
            let ip: IPv4Address
            if let given = item.nic.ip.flatMap(IPv4Address.init) {
                ip = given
            } else if let kept = reuse?.1 {
                ip = kept
            } else {
                ip = try newIP(vlan: item.vlan, used: &usedIPs)
            }
            let allocation = NICAllocation(key: item.key, mac: mac.description, ip: ip.description)
            nics[item.key] = allocation
            if remembered[item.key] != allocation { new.append(allocation) }
        }
        return Result(nics: nics, new: new)
    }

    static func newMAC(prefix: [UInt8], seed: String, used: inout Set<MACAddress>) throws -> MACAddress {
        var suffix = UInt32(truncatingIfNeeded: Naming.stableHash(seed)) & 0xff_ffff
        for _ in 0..<0x100_0000 {
            let mac = MACAddress(bytes: prefix + [UInt8(suffix >> 16 & 0xff), UInt8(suffix >> 8 & 0xff), UInt8(suffix & 0xff)])
            if suffix != 0, used.insert(mac).inserted { return mac }
            suffix = (suffix + 1) & 0xff_ffff
        }
        throw PlatformError(.conflict, "MAC prefix \(prefix)", "no free MAC left under it")
    }

    static func newIP(vlan: VLANDef, used: inout Set<IPv4Address>) throws -> IPv4Address {
        guard let subnet = IPv4Subnet(vlan.subnet) else { throw PlatformError(.invalidInput, "VLAN '\(vlan.name)'", field: "subnet", "not a valid subnet") }
        // From .10 up to the end of the subnet, then wrap around to the start.
        let first = subnet.firstHost.value, last = subnet.lastHost.value
        let start = min(first + 9, last)
        var value = start
        repeat {
            let ip = IPv4Address(value)
            if used.insert(ip).inserted { return ip }
            value = value == last ? first : value + 1
        } while value != start
        throw PlatformError(.conflict, "VLAN '\(vlan.name)' (\(subnet))", "no free address left")
    }
}
