/// The network filter every personality NIC references: OpenStack's "port security" for a
/// libvirt guest. libvirt's own `clean-traffic` (from libvirt-daemon-config-nwfilter) keeps the
/// guest to its MAC and to the `IP` parameter (its DHCP reservation) in Ethernet, IPv4 and ARP
/// (so no gratuitous ARP for another address), and drops other L2 protocols; this filter adds what
/// clean-traffic lets through: a guest answering DHCP (a reply sent from its own address would
/// pass the IP check).
///
/// One definition per libvirt host, shared by every platform on it; its fixed UUID keeps a
/// redefinition (an update of the rules) the same object. libvirt instantiates it on the tap
/// device whenever an interface that references it starts or is hot-plugged, and removes it with
/// the interface, so the protection moves with the personality's NICs by construction.
public enum PortSecurityFilter {
    public static let name = "vp-port-security"
    public static let uuid = "1395347a-0996-47eb-b310-c06f4a0ad481"
    /// The libvirt filter it builds on.
    public static let base = "clean-traffic"

    public static var tree: XMLTree {
        XMLTree("filter", ["name": name, "chain": "root"]) {
            XMLTree("uuid", text: uuid)
            // Direction 'out' is traffic from the guest. In the root chain, priority -750 runs after
            // clean-traffic's MAC check (-800) and before its IPv4 checks and accept (-710, -650).
            XMLTree("rule", ["action": "drop", "direction": "out", "priority": "-750"]) {
                XMLTree("ip", ["protocol": "udp", "srcportstart": "67", "srcportend": "67"])
            }
            XMLTree("filterref", ["filter": base])
        }
    }

    public static func render() -> String { tree.render() }
}
