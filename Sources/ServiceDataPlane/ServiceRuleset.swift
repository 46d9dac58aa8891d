/// What the kernel must do for a platform's service IPs: the desired content of the platform's
/// nftables table. Plain values; `NFTRuleset` turns them into nftables commands.
public struct ServiceRuleset: Sendable, Equatable {
    /// nftables table (family ip) that the platform owns.
    public var table: String
    /// Bridges of the VLANs that service backends sit on. These networks are routed by the host
    /// (libvirt forward mode "open"), so the table lets only service connections cross them.
    public var routedBridges: [String]
    public var services: [Service]

    public init(table: String, routedBridges: [String], services: [Service]) {
        self.table = table; self.routedBridges = routedBridges; self.services = services
    }

    public struct Service: Sendable, Equatable {
        public enum L4: String, Sendable { case tcp, udp }
        public var name: String
        /// Regular chain that holds this service's DNAT rule.
        public var chain: String
        public var address: String
        public var port: Int
        public var l4: L4
        /// Hash the source port along with the source address.
        public var hashSourcePort: Bool
        /// jhash seed: fixed per service so the same source keeps its slot across reprogramming.
        public var seed: UInt32
        /// Distinct backend addresses.
        public var backends: [String]
        /// Lookup table: slot → index into `backends`, -1 for no backend.
        public var slots: [Int32]

        public init(name: String, chain: String, address: String, port: Int, l4: L4, hashSourcePort: Bool, seed: UInt32,
                    backends: [String], slots: [Int32]) {
            self.name = name; self.chain = chain; self.address = address; self.port = port; self.l4 = l4
            self.hashSourcePort = hashSourcePort; self.seed = seed; self.backends = backends; self.slots = slots
        }

        /// Slots per backend address.
        public var shares: [String: Int] {
            var counts = [Int](repeating: 0, count: backends.count)
            for s in slots where s >= 0 { counts[Int(s)] += 1 }
            return Dictionary(uniqueKeysWithValues: zip(backends, counts))
        }
    }

    /// nftables names: letters, digits and '_' only; a platform name that needed changing gets a
    /// stable suffix so two platforms cannot end up with the same table.
    public static func identifier(_ prefix: String, _ name: String) -> String {
        let clean = String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
        guard clean != name else { return prefix + name }
        var h: UInt32 = 2166136261
        for b in name.utf8 { h = (h ^ UInt32(b)) &* 16777619 }
        return prefix + clean + "_" + String(h & 0xffff, radix: 16)
    }

    public static func tableName(platform: String) -> String { identifier("vp_", platform) }
}
