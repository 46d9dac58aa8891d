import Foundation
import Libvirt
import LibvirtXML
import PlatformModel

/// What libvirt holds on one host, reduced to the fields the platform manages.
struct ActualState {
    struct Network {
        var name: String
        var uuid: String
        var active: Bool
        var bridge: String
        var address: String?
        var prefix: Int?
        var forwardMode: String?
        var hosts: Set<DHCPHostKey>
    }
    struct DHCPHostKey: Hashable, Comparable {
        var mac: String, ip: String
        static func < (a: Self, b: Self) -> Bool { (a.mac, a.ip) < (b.mac, b.ip) }
    }
    struct Pool {
        var name: String
        var uuid: String
        var active: Bool
        /// The directory (`<target><path>`).
        var path: String
        /// The volumes' names; known only while the pool runs.
        var volumes: Set<String>
        /// Volume name → the path a domain's disk reaches it by; read by `readLive`.
        var volumePaths: [String: String] = [:]
        var availableBytes: UInt64?
    }
    struct Domain {
        var name: String
        var uuid: String
        var active: Bool
        var definition: DomainFacts
        /// What the running guest holds now (hot-plugged devices too); read by `readLive`.
        var live: DomainFacts?
    }

    var networks: [String: Network] = [:]
    var pools: [String: Pool] = [:]
    var domains: [String: Domain] = [:]
    /// What the directories of wanted pools that libvirt does not hold yet contain, by path.
    var directories: [String: PoolDirectory] = [:]
    var host = HostFacts.unknown

    /// Reads libvirt; `unknownPoolPaths` are directories of wanted pools libvirt does not hold.
    /// Per object only what a plan compares: its XML (domains, networks, pools) and a pool's
    /// volume names. Running state comes from one listing per kind, UUIDs from the handles
    /// (no call), and what only `HolderGuard` needs waits for `readLive`.
    static func read(_ connection: Connection, unknownPoolPaths: (ActualState) -> [String] = { _ in [] }) throws -> ActualState {
        var state = ActualState()
        let activeNetworks = try connection.activeNetworkNames()
        for net in try connection.networks() {
            guard let xml = try vanishing({ try persistentXML(net) }) else { continue }
            let root = try XMLTree.parse(xml)
            let hosts = root.children("ip").flatMap { $0.at("dhcp")?.children("host") ?? [] }.compactMap { host -> DHCPHostKey? in
                guard let mac = host[attribute: "mac"], let ip = host[attribute: "ip"] else { return nil }
                return DHCPHostKey(mac: mac.lowercased(), ip: ip)
            }
            let ip = root.child("ip")
            state.networks[net.name] = Network(
                name: net.name, uuid: try net.uuid(), active: activeNetworks.contains(net.name),
                bridge: root.child("bridge")?[attribute: "name"] ?? "",
                address: ip?[attribute: "address"], prefix: ip.flatMap(prefix),
                forwardMode: root.child("forward")?[attribute: "mode"], hosts: Set(hosts))
        }
        for pool in try connection.storagePools() {
            guard let active = try vanishing({ try pool.isActive() }) else { continue }
            guard let xml = try vanishing({ try pool.xml() }) else { continue }
            let volumes = active ? Set((try vanishing({ try pool.volumes() }) ?? []).map(\.name)) : []
            let available = active ? try vanishing({ try pool.info() })?.availableBytes : nil
            state.pools[pool.name] = Pool(name: pool.name, uuid: try pool.uuid(), active: active,
                                          path: try targetPath(ofPool: xml), volumes: volumes, availableBytes: available)
        }
        let activeDomains = try connection.activeDomainNames()
        for dom in try connection.domains() {
            guard let xml = try vanishing({ try dom.xml(inactive: true) }) else { continue }
            state.domains[dom.name] = Domain(name: dom.name, uuid: try dom.uuid(), active: activeDomains.contains(dom.name),
                                             definition: try DomainFacts(xml: xml))
        }
        for path in unknownPoolPaths(state) {
            state.directories[path] = PoolDirectory.look(at: path, connection, pools: state.pools.values)
        }
        state.host = HostFacts.read(connection)
        return state
    }

    /// Reads what each running domain holds now, and the paths of the pools' volumes (a disk
    /// given as a file may be one). Only a plan that gives devices to a running processor needs
    /// them, so a no-op plan of a large platform does not pay for them.
    mutating func readLive(_ connection: Connection) throws {
        for (name, dom) in domains where dom.active {
            guard let domain = try Self.vanishing({ try connection.domain(named: name) }),
                  let xml = try Self.vanishing({ try domain.xml() }) else { continue }
            domains[name]?.live = try DomainFacts(xml: xml)
        }
        for (name, pool) in pools where pool.active {
            guard let handle = try Self.vanishing({ try connection.storagePool(named: name) }) else { continue }
            var paths: [String: String] = [:]
            for vol in try Self.vanishing({ try handle.volumes() }) ?? [] {
                if let path = try Self.vanishing({ try vol.path() }) { paths[vol.name] = path }
            }
            pools[name]?.volumePaths = paths
        }
    }

    /// The prefix length of a network's `<ip>`, given as `prefix` or (by other tools) as `netmask`.
    private static func prefix(_ ip: XMLTree) -> Int? {
        if let prefix = ip[attribute: "prefix"] { return Int(prefix) }
        guard let mask = ip[attribute: "netmask"].flatMap(IPv4Address.init) else { return nil }
        return mask.value.nonzeroBitCount
    }

    /// A pool's directory (`<target><path>`), "" when it has none.
    static func targetPath(ofPool xml: String) throws -> String {
        try XMLTree.parse(xml).at("target", "path")?.text ?? ""
    }

    /// The value, or nil when the object was deleted (by someone else) while being read.
    private static func vanishing<T>(_ read: () throws -> T) throws -> T? {
        do { return try read() } catch let e as LibvirtError where e.isNotFound { return nil }
    }

    /// The persistent definition; drivers that refuse the flag (the test driver) give the live one.
    static func persistentXML(_ net: Libvirt.Network) throws -> String {
        do { return try net.xml(inactive: true) } catch let e as LibvirtError where !e.isNotFound { return try net.xml() }
    }
}

/// The parts of a domain definition that the platform manages, read from libvirt's XML or
/// taken from a `DomainSpec`, so the two can be compared.
public struct DomainFacts: Equatable, Sendable {
    public struct NIC: Hashable, Comparable, Sendable {
        public var mac: String, network: String
        public static func < (a: Self, b: Self) -> Bool { (a.mac, a.network) < (b.mac, b.network) }
    }
    public struct Disk: Hashable, Comparable, Sendable {
        /// `source` is "pool/volume" for pool volumes, else the file path.
        public var target: String, source: String
        /// The `<driver type>`: how QEMU reads the file ("raw", "qcow2").
        public var format: String = "raw"
        public static func < (a: Self, b: Self) -> Bool { (a.target, a.source, a.format) < (b.target, b.source, b.format) }
    }
    var type: String
    var memoryKiB: UInt64
    var vcpus: Int
    var kernel: String?
    var initrd: String?
    var cmdline: String?
    public var personality: String?
    public var platform: String?
    public var nics: Set<NIC>
    public var disks: Set<Disk>

    /// Everything but devices: a difference here needs the definition replaced.
    var hardware: [String?] { [type, String(memoryKiB), String(vcpus), kernel, initrd, cmdline, personality, platform] }

    init(spec: DomainSpec) {
        type = spec.type
        // Saturates: an absurd size must reach the host check (and its clear refusal), not trap.
        let (kib, overflow) = UInt64(clamping: spec.memoryMiB).multipliedReportingOverflow(by: 1024)
        memoryKiB = overflow ? .max : kib
        vcpus = spec.vcpus
        kernel = spec.kernel; initrd = spec.initrd; cmdline = spec.cmdline
        let attributes = spec.metadata.map { Dictionary($0.element.attributes, uniquingKeysWith: { a, _ in a }) } ?? [:]
        personality = attributes["personality"]
        platform = attributes["platform"]
        nics = Set(spec.interfaces.map { NIC(mac: $0.mac.lowercased(), network: $0.network) })
        disks = Set(spec.disks.map { disk in
            switch disk.source {
            case .volume(let pool, let volume): return Disk(target: disk.target, source: "\(pool)/\(volume)", format: disk.format)
            case .file(let path): return Disk(target: disk.target, source: path, format: disk.format)
            }
        })
    }

    public init(xml: String) throws {
        // libvirt's status files (/run/libvirt/qemu/<name>.xml) wrap the live domain in <domstatus>.
        let top = try XMLTree.parse(xml)
        let root = top.name == "domstatus" ? top.child("domain") : top
        // An element that is there reads as its text, "" when empty.
        func text(_ e: XMLTree?) -> String? { e.map { $0.text ?? "" } }
        type = root?[attribute: "type"] ?? ""
        let memoryElement = root?.child("memory")
        let unit = memoryElement?[attribute: "unit"] ?? "KiB"
        let memory = UInt64(text(memoryElement) ?? "0") ?? 0
        memoryKiB = unit == "MiB" ? memory * 1024 : unit == "GiB" ? memory << 20 : memory
        vcpus = Int(text(root?.child("vcpu")) ?? "1") ?? 1
        let os = root?.child("os")
        kernel = text(os?.child("kernel"))
        initrd = text(os?.child("initrd"))
        cmdline = text(os?.child("cmdline"))
        let owner = root?.child("metadata")?.children.first { $0.name == "processor" || $0.name.hasSuffix(":processor") }
        personality = owner?[attribute: "personality"]
        platform = owner?[attribute: "platform"]
        let devices = root?.child("devices")
        nics = Set((devices?.children("interface") ?? []).map { e in
            NIC(mac: (e.child("mac")?[attribute: "address"] ?? "").lowercased(), network: e.child("source")?[attribute: "network"] ?? "")
        })
        disks = Set((devices?.children("disk") ?? []).compactMap { e -> Disk? in
            guard let target = e.child("target")?[attribute: "dev"], let source = e.child("source") else { return nil }
            let format = e.child("driver")?[attribute: "type"] ?? "raw"
            if let pool = source[attribute: "pool"], let vol = source[attribute: "volume"] {
                return Disk(target: target, source: "\(pool)/\(vol)", format: format)
            }
            return Disk(target: target, source: source[attribute: "file"] ?? "", format: format)
        })
    }
}
