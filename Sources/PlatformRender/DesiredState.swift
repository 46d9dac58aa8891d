import LibvirtXML
import PlatformModel

/// Everything the platform wants libvirt to hold, per host: the reconciler's target.
public struct DesiredState: Sendable {
    public struct Network: Sendable, Equatable {
        public var host: String
        public var vlan: String
        public var spec: NetworkSpec
    }
    public struct Pool: Sendable, Equatable {
        public var host: String
        public var spec: StoragePoolSpec
        public var volumes: [VolumeSpec]
    }
    public struct Processor: Sendable, Equatable {
        public enum Role: String, Sendable, Codable {
            case active, hotStandby = "hot-standby", coldStandby = "cold-standby"
            /// Declared failed and not yet repaired: kept off, with no personality.
            case failed
        }
        public var host: String
        public var spec: DomainSpec
        public var personality: String?
        public var role: Role
        /// Active processors and hot standbys run; cold standbys and failed ones are defined and off.
        public var running: Bool { role == .active || role == .hotStandby }
    }

    public var platform: String
    public var networks: [Network]
    public var pools: [Pool]
    public var processors: [Processor]

    public init(platform: String, networks: [Network], pools: [Pool], processors: [Processor]) {
        self.platform = platform; self.networks = networks; self.pools = pools; self.processors = processors
    }
}

/// The boot files and command line every processor uses (from the image manifest).
public struct BootImage: Sendable, Equatable {
    public var kernel: String
    public var initrd: String
    public var cmdline: String
    public init(kernel: String, initrd: String, cmdline: String) {
        self.kernel = kernel; self.initrd = initrd; self.cmdline = cmdline
    }
}

/// Turns a validated definition plus the controller's memory (bindings, allocations) into the
/// libvirt objects it implies. Pure and deterministic: golden-tested.
public enum Renderer {
    public static let namespace = "https://virtualplatform.dev/xmlns/platform"
    public static let metadataPrefix = "vp"

    public static func render(_ p: PlatformDefinition, allocations: [String: NICAllocation],
                              bindings: [String: String], domainTypes: [String: String],
                              image: BootImage, failed: Set<String> = []) -> DesiredState {
        let hostsByName = Dictionary(p.hosts.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })

        // Every host gets every VLAN: a personality may move to a standby on any host.
        var networks: [DesiredState.Network] = []
        let serviceRouted = p.serviceRoutedVLANs
        let dhcpHosts = dhcpHostsByVLAN(p, allocations: allocations)
        for host in p.hosts {
            for vlan in p.vlans {
                guard let subnet = IPv4Subnet(vlan.subnet) else { continue }
                let gateway = vlan.gateway ?? subnet.firstHost.description
                let name = Naming.network(platform: p.platform, vlan: vlan.name)
                let hosts = dhcpHosts[vlan.name] ?? []
                let spec = NetworkSpec(name: name, uuid: StableUUID.make("network", p.platform, host.name, name),
                                       bridge: Naming.bridge(platform: p.platform, vlan: vlan),
                                       mode: vlan.vlanMode == .routed ? .routed : serviceRouted.contains(vlan.name) ? .open : .isolated,
                                       address: gateway, prefix: subnet.prefix, hosts: hosts,
                                       vlanTag: vlan.id, openVSwitch: host.isOpenVSwitch)
                networks.append(.init(host: host.name, vlan: vlan.name, spec: spec))
            }
        }

        let pools = (p.storage?.pools ?? []).map { pool in
            DesiredState.Pool(host: pool.host,
                              spec: StoragePoolSpec(name: pool.name, uuid: StableUUID.make("pool", p.platform, pool.host, pool.name),
                                                    path: pool.path),
                              volumes: pool.volumes.map {
                                  VolumeSpec(name: $0.name, capacityBytes: ByteSize.parse($0.capacity) ?? 0, format: ($0.format ?? .raw).rawValue)
                              })
        }

        let formats = VolumeFormats(p)
        var processors: [DesiredState.Processor] = []
        for (proc, person, role) in roles(p, bindings: bindings, failed: failed) {
            let devices = person.map { devicesOf($0, in: p, allocations: allocations, format: formats.format) }
            let owner = XMLTree("processor", ["platform": p.platform])
                .attribute("personality", person?.name)
            let host = hostsByName[proc.host]
            let spec = DomainSpec(name: proc.name, uuid: StableUUID.make("domain", p.platform, proc.host, proc.name),
                                  type: domainTypes[proc.host] ?? host?.domainType?.rawValue ?? "qemu",
                                  vcpus: p.processors.vcpus, memoryMiB: p.processors.memoryMiB,
                                  kernel: image.kernel, initrd: image.initrd,
                                  cmdline: "\(image.cmdline) vp.name=\(proc.name)",
                                  interfaces: devices?.interfaces ?? [], disks: devices?.disks ?? [],
                                  serialLog: consoleLog(platform: p.platform, processor: proc.name),
                                  metadata: MetadataSpec(namespace: namespace, prefix: metadataPrefix, element: owner))
            processors.append(.init(host: proc.host, spec: spec, personality: person?.name, role: role))
        }
        return DesiredState(platform: p.platform, networks: networks, pools: pools, processors: processors)
    }
}

extension Renderer {
    /// The processor's serial console, written afresh at each boot (the agent says "ready" there).
    public static func consoleLog(platform: String, processor: String) -> String {
        "/var/lib/virtualplatform/\(platform)/console/\(processor).log"
    }

    /// What a personality brings to the processor that carries it: one NIC per VLAN (with its
    /// virtual MAC) and its disks (the storage mapping), plus the address each NIC gets.
    public struct PersonalityDevices: Sendable, Equatable {
        public struct NIC: Sendable, Equatable {
            public var vlan: String
            public var spec: InterfaceSpec
            public var ip: String
        }
        public var nics: [NIC]
        public var disks: [DiskSpec]
        public var interfaces: [InterfaceSpec] { nics.map(\.spec) }
    }

    public static func devicesOf(_ person: PersonalityDef, in p: PlatformDefinition,
                                 allocations: [String: NICAllocation]) -> PersonalityDevices {
        devicesOf(person, in: p, allocations: allocations) { volumeFormat(pool: $0, volume: $1, in: p) }
    }

    static func devicesOf(_ person: PersonalityDef, in p: PlatformDefinition, allocations: [String: NICAllocation],
                          format: (_ pool: String, _ volume: String) -> String) -> PersonalityDevices {
        let nics = person.nics.compactMap { nic -> PersonalityDevices.NIC? in
            guard let a = allocations[NICAllocation.key(personality: person.name, vlan: nic.vlan)] else { return nil }
            // A fixed tap name: the host's port-security rules keep this port to its MAC and address.
            return .init(vlan: nic.vlan, spec: InterfaceSpec(network: Naming.network(platform: p.platform, vlan: nic.vlan), mac: a.mac,
                                                             tap: Naming.tap(mac: a.mac)),
                         ip: a.ip)
        }
        let disks = (person.disks ?? []).map { disk -> DiskSpec in
            let parts = disk.volume.split(separator: "/", maxSplits: 1).map(String.init)
            let (pool, volume) = (parts[0], parts.count > 1 ? parts[1] : "")
            // The guest must see the volume's contents, not its container: a qcow2 file given as
            // raw shows the guest the qcow2 header (and lets it write one with a backing file).
            return DiskSpec(source: .volume(pool: pool, volume: volume),
                            target: disk.target, bus: disk.target.hasPrefix("sd") ? .scsi : .virtio,
                            format: format(pool, volume))
        }
        return PersonalityDevices(nics: nics, disks: disks)
    }

    /// Each VLAN's DHCP reservations, in personality order: one pass over the NICs, not one per VLAN.
    static func dhcpHostsByVLAN(_ p: PlatformDefinition, allocations: [String: NICAllocation]) -> [String: [DHCPHost]] {
        var hosts: [String: [DHCPHost]] = [:]
        for person in p.personalities {
            for nic in person.nics {
                guard let a = allocations[NICAllocation.key(personality: person.name, vlan: nic.vlan)] else { continue }
                hosts[nic.vlan, default: []].append(DHCPHost(mac: a.mac, ip: a.ip, name: person.name))
            }
        }
        return hosts
    }

    /// The format a volume is created with: what the disk's `<driver type>` must say.
    static func volumeFormat(pool: String, volume: String, in p: PlatformDefinition) -> String {
        let def = p.storage?.pools.first { $0.name == pool }?.volumes.first { $0.name == volume }
        return (def?.format ?? .raw).rawValue
    }

    /// The same for every volume, by "pool/volume": rendering looks one up per disk of every
    /// processor, so a map rather than a search of the pools each time.
    struct VolumeFormats {
        private var formats: [String: String] = [:]

        init(_ p: PlatformDefinition) {
            for pool in p.storage?.pools ?? [] {
                for volume in pool.volumes where formats["\(pool.name)/\(volume.name)"] == nil {
                    formats["\(pool.name)/\(volume.name)"] = (volume.format ?? .raw).rawValue
                }
            }
        }

        func format(pool: String, volume: String) -> String { formats["\(pool)/\(volume)"] ?? "raw" }
    }
}

/// UUIDs derived from names, so an object's identity says which platform owns it and the same
/// definition always yields the same UUIDs.
public enum StableUUID {
    public static func make(_ parts: String...) -> String {
        let text = parts.joined(separator: "\u{1f}")
        // FNV-1a runs over the bytes in order: the hash of prefix + text, without making that string.
        let a = StableHash.fnv1a(text, from: prefixA), b = StableHash.fnv1a(text, from: prefixB)
        var bytes = (0..<8).map { UInt8(truncatingIfNeeded: a >> (56 - 8 * UInt64($0))) }
            + (0..<8).map { UInt8(truncatingIfNeeded: b >> (56 - 8 * UInt64($0))) }
        bytes[6] = bytes[6] & 0x0f | 0x80 // version 8: custom
        bytes[8] = bytes[8] & 0x3f | 0x80 // RFC 4122 variant
        // 8-4-4-4-12 hex digits: made per object of a plan (tens of thousands on a large platform).
        var text36: [UInt8] = []
        text36.reserveCapacity(36)
        for (i, byte) in bytes.enumerated() {
            if [4, 6, 8, 10].contains(i) { text36.append(UInt8(ascii: "-")) }
            text36.append(hexDigits[Int(byte >> 4)])
            text36.append(hexDigits[Int(byte & 0xf)])
        }
        return String(decoding: text36, as: UTF8.self)
    }

    private static let prefixA = StableHash.fnv1a("vp-a\u{1f}"), prefixB = StableHash.fnv1a("vp-b\u{1f}")
    private static let hexDigits = Array("0123456789abcdef".utf8)
}
