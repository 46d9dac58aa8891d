import Foundation
import Libvirt
import LibvirtXML
import PlatformModel

/// What a host offers, as far as libvirt (and, for this machine's daemon, the kernel) tells:
/// what `plan` checks a definition against before anything is created.
struct HostFacts {
    /// An IPv4 address with its prefix, e.g. 192.0.2.2/24 on eth0.
    struct Address: Equatable {
        var address: IPv4Address, prefix: Int, interface: String
        func overlaps(_ other: IPv4Address, prefix otherPrefix: Int) -> Bool {
            let bits = min(prefix, otherPrefix)
            let mask: UInt32 = bits == 0 ? 0 : UInt32.max << UInt32(32 - bits)
            return address.value & mask == other.value & mask
        }
    }
    var node: NodeInfo?
    var interfaces: Set<String>?
    var addresses: [Address] = []
    /// Why some facts are missing; a check that needs them refuses (unknown is unsafe).
    var unreadable: [String] = []

    static let unknown = HostFacts(unreadable: ["the host was not read"])

    static func read(_ connection: Connection) -> HostFacts {
        var facts = HostFacts()
        do { facts.node = try connection.nodeInfo() } catch { facts.unreadable.append("\(error)") }
        do {
            let list = try connection.hostInterfaces()
            facts.interfaces = Set(list.map(\.name))
            facts.addresses = list.flatMap(addresses(in:))
        } catch {
            facts.unreadable.append("\(error)")
        }
        // libvirt's udev interface backend reports no addresses; for this machine's daemon the
        // kernel does. (A remote host's daemon refuses a network whose subnet is routed there
        // when it starts it, and the apply is rolled back.)
        if LibvirtURI.isThisMachine(connection.uri) {
            let local = localInterfaces()
            facts.interfaces = (facts.interfaces ?? []).union(local.names)
            facts.addresses += local.addresses
        }
        return facts
    }

    private static func addresses(in interface: HostInterface) -> [Address] {
        guard let root = try? XMLTree.parse(interface.xml) else { return [] }
        let ips = root.all("protocol").filter { $0[attribute: "family"] == "ipv4" }.flatMap { $0.children("ip") }
        return ips.compactMap { e in
            guard let text = e[attribute: "address"], let address = IPv4Address(text) else { return nil }
            let prefix = e[attribute: "prefix"].flatMap { Int($0) } ?? 32
            return Address(address: address, prefix: prefix, interface: interface.name)
        }
    }

    /// Every interface of this machine and its IPv4 addresses (getifaddrs(3)).
    private static func localInterfaces() -> (names: Set<String>, addresses: [Address]) {
        var head: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&head) == 0 else { return ([], []) }
        defer { freeifaddrs(head) }
        var names = Set<String>()
        var result: [Address] = []
        var next = head
        while let entry = next?.pointee {
            next = entry.ifa_next
            names.insert(String(cString: entry.ifa_name))
            guard let sa = entry.ifa_addr, sa.pointee.sa_family == sa_family_t(AF_INET), let maskPointer = entry.ifa_netmask
            else { continue }
            let address = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt32(bigEndian: $0.pointee.sin_addr.s_addr) }
            let mask = maskPointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt32(bigEndian: $0.pointee.sin_addr.s_addr) }
            result.append(Address(address: IPv4Address(address), prefix: mask.nonzeroBitCount,
                                  interface: String(cString: entry.ifa_name)))
        }
        return (names, result)
    }
}
