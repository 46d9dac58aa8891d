/// Checks a definition's meaning before anything is touched, and reports every problem at once.
public enum Validator {
    /// Characters libvirt and Linux accept in the names the platform turns into domains,
    /// networks, pools and volumes.
    static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.count <= 64 else { return false }
        return first.properties.isAlphabetic || ("0"..."9").contains(Character(first))
            ? name.unicodeScalars.allSatisfy(nameCharacters.contains) : false
    }

    /// Made once: every name of a large platform is checked.
    private static let nameCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.".unicodeScalars)

    static let maxBridgeName = 15 // IFNAMSIZ - 1
    /// Memory of one processor: 16 TiB, beyond any host this runs on (the host's own memory is checked
    /// at plan time), and small enough that its KiB and bytes (2^44) fit Int and UInt64 with room.
    public static let maxMemoryMiB = 16 << 20

    /// The rules, in the order they run: later ones read what earlier ones learnt (subnets,
    /// addresses taken, volumes defined), and issues come out in the same order as before the split.
    static var rules: [(ValidationContext) -> Void] {
        [checkPlatformName, checkMACPrefix, checkHosts, checkProcessors, checkVLANs, checkStorage,
         checkPersonalities, checkFailover, checkStandby, checkServices, checkOneServiceVLANPerMember]
    }

    public static func validate(_ loaded: LoadedPlatform) -> [ConfigIssue] {
        let context = ValidationContext(loaded)
        for rule in rules { rule(context) }
        return context.issues.sorted { ($0.line ?? 0, $0.field) < ($1.line ?? 0, $1.field) }
    }

    static func isValidTarget(_ target: String) -> Bool {
        guard target.count >= 3, target.hasPrefix("vd") || target.hasPrefix("sd") else { return false }
        return target.dropFirst(2).allSatisfy { ("a"..."z").contains($0) }
    }
}

/// Which earlier subnet overlaps a new one, without comparing every pair (2,000 VLANs would be
/// two million comparisons). Two subnets overlap only when one contains the other: an earlier one
/// containing it has its network under one of the shorter prefixes, an earlier one inside it has
/// its network cut to this prefix equal to this network.
struct SubnetOverlaps {
    /// prefix → network → position of the first subnet added with exactly that prefix.
    private var byPrefix: [Int: [UInt32: Int]] = [:]
    /// prefix → network of a subnet of that prefix or longer, cut to the prefix → first position.
    private var cutTo: [Int: [UInt32: Int]] = [:]

    /// The position (in the order added) of the first subnet that overlaps `subnet`.
    func firstOverlapping(_ subnet: IPv4Subnet) -> Int? {
        let containing = byPrefix.compactMap { prefix, networks in
            prefix <= subnet.prefix ? networks[subnet.network.value & IPv4Subnet.mask(prefix)] : nil
        }
        let inside = cutTo[subnet.prefix]?[subnet.network.value]
        return (containing + [inside].compactMap { $0 }).min()
    }

    mutating func add(_ subnet: IPv4Subnet, at position: Int) {
        if byPrefix[subnet.prefix]?[subnet.network.value] == nil { byPrefix[subnet.prefix, default: [:]][subnet.network.value] = position }
        for prefix in 0...subnet.prefix {
            let network = subnet.network.value & IPv4Subnet.mask(prefix)
            if cutTo[prefix]?[network] == nil { cutTo[prefix, default: [:]][network] = position }
        }
    }
}

/// Which VLAN's subnet holds an address: one lookup per prefix length, not one per VLAN.
struct SubnetOwners {
    /// prefix → network → position of the first VLAN with that subnet.
    private var byPrefix: [Int: [UInt32: Int]] = [:]
    private let vlans: [String]

    init(_ subnets: [(vlan: String, subnet: IPv4Subnet)]) {
        vlans = subnets.map(\.vlan)
        for (i, entry) in subnets.enumerated() where byPrefix[entry.subnet.prefix]?[entry.subnet.network.value] == nil {
            byPrefix[entry.subnet.prefix, default: [:]][entry.subnet.network.value] = i
        }
    }

    /// The first VLAN, in definition order, whose subnet contains the address.
    func owner(of address: IPv4Address) -> String? {
        byPrefix.compactMap { prefix, networks in networks[address.value & IPv4Subnet.mask(prefix)] }.min().map { vlans[$0] }
    }
}
