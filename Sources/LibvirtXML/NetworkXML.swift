/// A DHCP reservation: the guest that owns `mac` always gets `ip`, whichever domain carries it.
public struct DHCPHost: Sendable, Equatable {
    public var mac: String
    public var ip: String
    public var name: String?
    public init(mac: String, ip: String, name: String? = nil) { self.mac = mac; self.ip = ip; self.name = name }

    public var tree: XMLTree { XMLTree("host", ["mac": mac, "ip": ip]).attribute("name", name) }
    /// `<host>` XML for `Network.updateDHCPHost`.
    public func render() -> String { tree.render() }
}

/// A virtual LAN as a libvirt network with its own bridge.
public struct NetworkSpec: Sendable, Equatable {
    public enum Mode: Sendable, Equatable {
        /// No forwarding: members reach each other and nothing else.
        case isolated
        /// Routed through the host (no NAT).
        case routed
        /// NAT to the host's uplinks.
        case nat
        /// Routed by the host with no firewall rules from libvirt: the platform's own nftables
        /// table decides what crosses (only service-IP connections). DHCP offers the host as router.
        case open
    }
    public var name: String
    public var uuid: String?
    public var bridge: String
    public var mode: Mode
    /// The host's address on the bridge and the prefix length, e.g. ("10.10.0.1", 24).
    public var address: String
    public var prefix: Int
    public var dhcpRange: (start: String, end: String)?
    public var hosts: [DHCPHost]
    /// 802.1Q tag, rendered only for Open vSwitch bridges.
    public var vlanTag: Int?
    public var openVSwitch: Bool

    public init(name: String, uuid: String? = nil, bridge: String, mode: Mode = .isolated,
                address: String, prefix: Int, dhcpRange: (start: String, end: String)? = nil,
                hosts: [DHCPHost] = [], vlanTag: Int? = nil, openVSwitch: Bool = false) {
        self.name = name; self.uuid = uuid; self.bridge = bridge; self.mode = mode
        self.address = address; self.prefix = prefix; self.dhcpRange = dhcpRange; self.hosts = hosts
        self.vlanTag = vlanTag; self.openVSwitch = openVSwitch
    }

    public static func == (a: NetworkSpec, b: NetworkSpec) -> Bool { a.render() == b.render() }

    public var tree: XMLTree {
        XMLTree("network") {
            XMLTree("name", text: name)
            if let uuid { XMLTree("uuid", text: uuid) }
            switch mode {
            case .isolated: []
            case .routed: XMLTree("forward", ["mode": "route"])
            case .nat: XMLTree("forward", ["mode": "nat"])
            case .open: XMLTree("forward", ["mode": "open"])
            }
            XMLTree("bridge", ["name": bridge, "stp": "off", "delay": "0"])
            if openVSwitch {
                XMLTree("virtualport", ["type": "openvswitch"])
                if let vlanTag { XMLTree("vlan") { XMLTree("tag", ["id": String(vlanTag)]) } }
            }
            XMLTree("ip", ["address": address, "prefix": String(prefix)]) {
                if dhcpRange != nil || !hosts.isEmpty {
                    XMLTree("dhcp") {
                        if let dhcpRange { XMLTree("range", ["start": dhcpRange.start, "end": dhcpRange.end]) }
                        hosts.map(\.tree)
                    }
                }
            }
        }
    }

    public func render() -> String { tree.render() }
}
