import PlatformModel

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

    /// A slot of a member's lookup table and the backend (index into `backends`) it falls back to.
    public struct SlotTarget: Sendable, Equatable {
        public var slot: Int32
        public var backend: Int32
        public init(slot: Int32, backend: Int32) { self.slot = slot; self.backend = backend }
    }

    /// One service. Its lookup is in two levels so that a health change is a tiny transaction:
    /// the slot picks a member (the Maglev table over every member, which only a definition change
    /// rewrites); the member's own chain either sends to its backend or, when it is out, goes to
    /// its fallback chain, which maps each of its slots to a healthy backend. The fallback of a
    /// healthy member is prepared for the case that it is the next to leave.
    public struct Service: Sendable, Equatable {
        public enum L4: String, Sendable { case tcp, udp }
        public var name: String
        /// Regular chain that holds this service's lookup; members' chains derive their names from it.
        public var chain: String
        public var address: String
        public var port: Int
        public var l4: L4
        /// Hash the source port along with the source address.
        public var hashSourcePort: Bool
        /// jhash seed: fixed per service so the same source keeps its slot across reprogramming.
        public var seed: UInt32
        /// The members' backend addresses.
        public var backends: [String]
        /// Slot → member (index into `backends`), -1 for none: the table when every member is in.
        public var primary: [Int32]
        /// Per member: may it take flows now?
        public var healthy: [Bool]
        /// Per member: where each of its slots goes while it is out.
        public var fallback: [[SlotTarget]]

        public init(name: String, chain: String, address: String, port: Int, l4: L4, hashSourcePort: Bool, seed: UInt32,
                    backends: [String], primary: [Int32], healthy: [Bool], fallback: [[SlotTarget]]) {
            self.name = name; self.chain = chain; self.address = address; self.port = port; self.l4 = l4
            self.hashSourcePort = hashSourcePort; self.seed = seed; self.backends = backends; self.primary = primary
            self.healthy = healthy; self.fallback = fallback
        }

        public func memberChain(_ i: Int) -> String { "\(chain)_m\(i)" }
        public func fallbackChain(_ i: Int) -> String { "\(chain)_f\(i)" }

        /// Slot → backend after health: what a new flow hashed to that slot reaches (-1: none).
        public var effectiveSlots: [Int32] {
            var slots = primary.map { $0 >= 0 && healthy[Int($0)] ? $0 : -1 }
            for (i, up) in healthy.enumerated() where !up {
                for t in fallback[i] { slots[Int(t.slot)] = t.backend }
            }
            return slots
        }

        /// Slots per backend address after health.
        public var shares: [String: Int] {
            var counts = [Int](repeating: 0, count: backends.count)
            for s in effectiveSlots where s >= 0 { counts[Int(s)] += 1 }
            return Dictionary(uniqueKeysWithValues: zip(backends, counts))
        }

        /// Same members and the same primary table: only health and fallbacks differ.
        public func sameLayout(as other: Service) -> Bool {
            name == other.name && chain == other.chain && address == other.address && port == other.port && l4 == other.l4
                && hashSourcePort == other.hashSourcePort && seed == other.seed && backends == other.backends && primary == other.primary
        }
    }

    /// nftables names: letters, digits and '_' only; a platform name that needed changing gets a
    /// stable suffix so two platforms cannot end up with the same table.
    public static func identifier(_ prefix: String, _ name: String) -> String {
        let clean = String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
        guard clean != name else { return prefix + name }
        return prefix + clean + "_" + String(StableHash.fnv1a(name) & 0xffff, radix: 16)
    }

    public static func tableName(platform: String) -> String { identifier("vp_", platform) }
}
