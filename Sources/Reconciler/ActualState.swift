import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Libvirt
import LibvirtXML

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
        var volumes: [String: UInt64]
    }
    struct Domain {
        var name: String
        var uuid: String
        var active: Bool
        var definition: DomainFacts
    }

    var networks: [String: Network] = [:]
    var pools: [String: Pool] = [:]
    var domains: [String: Domain] = [:]

    static func read(_ connection: Connection) throws -> ActualState {
        var state = ActualState()
        for net in try connection.networks() {
            guard let xml = try vanishing({ try persistentXML(net) }) else { continue }
            let doc = try XMLDocument(xmlString: xml)
            let hosts = try doc.nodes(forXPath: "/network/ip/dhcp/host").compactMap { node -> DHCPHostKey? in
                guard let e = node as? XMLElement, let mac = e.attribute(forName: "mac")?.stringValue,
                      let ip = e.attribute(forName: "ip")?.stringValue else { return nil }
                return DHCPHostKey(mac: mac.lowercased(), ip: ip)
            }
            state.networks[net.name] = Network(
                name: net.name, uuid: try net.uuid(), active: try net.isActive(),
                bridge: doc.value("/network/bridge/@name") ?? "",
                address: doc.value("/network/ip/@address"), prefix: doc.value("/network/ip/@prefix").flatMap { Int($0) },
                forwardMode: doc.value("/network/forward/@mode"), hosts: Set(hosts))
        }
        for pool in try connection.storagePools() {
            guard let active = try vanishing({ try pool.isActive() }) else { continue }
            var volumes: [String: UInt64] = [:]
            if active {
                for vol in try vanishing({ try pool.volumes() }) ?? [] {
                    if let size = try vanishing({ try vol.capacityBytes() }) { volumes[vol.name] = size }
                }
            }
            state.pools[pool.name] = Pool(name: pool.name, uuid: try pool.uuid(), active: active, volumes: volumes)
        }
        for dom in try connection.domains() {
            guard let xml = try vanishing({ try dom.xml(inactive: true) }), let active = try vanishing({ try dom.isActive() })
            else { continue }
            state.domains[dom.name] = Domain(name: dom.name, uuid: try dom.uuid(), active: active, definition: try DomainFacts(xml: xml))
        }
        return state
    }

    /// The value, or nil when the object was deleted (by someone else) while being read.
    private static func vanishing<T>(_ read: () throws -> T) throws -> T? {
        do { return try read() } catch let e as LibvirtError where e.isNotFound { return nil }
    }

    /// The persistent definition; drivers that refuse the flag (the test driver) give the live one.
    private static func persistentXML(_ net: Libvirt.Network) throws -> String {
        do { return try net.xml(inactive: true) } catch let e as LibvirtError where !e.isNotFound { return try net.xml() }
    }
}

/// The parts of a domain definition that the platform manages, read from libvirt's XML or
/// taken from a `DomainSpec`, so the two can be compared.
struct DomainFacts: Equatable {
    struct NIC: Hashable, Comparable {
        var mac: String, network: String
        static func < (a: Self, b: Self) -> Bool { (a.mac, a.network) < (b.mac, b.network) }
    }
    struct Disk: Hashable, Comparable {
        var target: String, source: String
        static func < (a: Self, b: Self) -> Bool { (a.target, a.source) < (b.target, b.source) }
    }
    var type: String
    var memoryKiB: UInt64
    var vcpus: Int
    var kernel: String?
    var initrd: String?
    var cmdline: String?
    var personality: String?
    var platform: String?
    var nics: Set<NIC>
    var disks: Set<Disk>

    /// Everything but devices: a difference here needs the definition replaced.
    var hardware: [String?] { [type, String(memoryKiB), String(vcpus), kernel, initrd, cmdline, personality, platform] }

    init(spec: DomainSpec) {
        type = spec.type
        memoryKiB = UInt64(spec.memoryMiB) * 1024
        vcpus = spec.vcpus
        kernel = spec.kernel; initrd = spec.initrd; cmdline = spec.cmdline
        let attributes = spec.metadata.map { Dictionary($0.element.attributes, uniquingKeysWith: { a, _ in a }) } ?? [:]
        personality = attributes["personality"]
        platform = attributes["platform"]
        nics = Set(spec.interfaces.map { NIC(mac: $0.mac.lowercased(), network: $0.network) })
        disks = Set(spec.disks.map { disk in
            switch disk.source {
            case .volume(let pool, let volume): return Disk(target: disk.target, source: "\(pool)/\(volume)")
            case .file(let path): return Disk(target: disk.target, source: path)
            }
        })
    }

    init(xml: String) throws {
        let doc = try XMLDocument(xmlString: xml)
        type = doc.value("/domain/@type") ?? ""
        let unit = doc.value("/domain/memory/@unit") ?? "KiB"
        let memory = UInt64(doc.value("/domain/memory") ?? "0") ?? 0
        memoryKiB = unit == "MiB" ? memory * 1024 : unit == "GiB" ? memory << 20 : memory
        vcpus = Int(doc.value("/domain/vcpu") ?? "1") ?? 1
        kernel = doc.value("/domain/os/kernel")
        initrd = doc.value("/domain/os/initrd")
        cmdline = doc.value("/domain/os/cmdline")
        let owner = try doc.nodes(forXPath: "/domain/metadata/*[local-name()='processor']").first as? XMLElement
        personality = owner?.attribute(forName: "personality")?.stringValue
        platform = owner?.attribute(forName: "platform")?.stringValue
        nics = Set(try doc.nodes(forXPath: "/domain/devices/interface").compactMap { node -> NIC? in
            guard let e = node as? XMLElement else { return nil }
            let mac = (e.elements(forName: "mac").first?.attribute(forName: "address")?.stringValue ?? "").lowercased()
            let network = e.elements(forName: "source").first?.attribute(forName: "network")?.stringValue ?? ""
            return NIC(mac: mac, network: network)
        })
        disks = Set(try doc.nodes(forXPath: "/domain/devices/disk").compactMap { node -> Disk? in
            guard let e = node as? XMLElement,
                  let target = e.elements(forName: "target").first?.attribute(forName: "dev")?.stringValue,
                  let source = e.elements(forName: "source").first else { return nil }
            if let pool = source.attribute(forName: "pool")?.stringValue, let vol = source.attribute(forName: "volume")?.stringValue {
                return Disk(target: target, source: "\(pool)/\(vol)")
            }
            return Disk(target: target, source: source.attribute(forName: "file")?.stringValue ?? "")
        })
    }
}

extension XMLDocument {
    /// The string value of the first node an XPath selects.
    func value(_ xpath: String) -> String? {
        (try? nodes(forXPath: xpath))?.first?.stringValue
    }
}
