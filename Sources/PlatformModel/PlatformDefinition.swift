/// The platform definition, as written in YAML (see platform-config/README.md for the schema).
/// These types mirror the file; meaning is checked by `Validator`, not by decoding.
public struct PlatformDefinition: Codable, Sendable, Equatable {
    /// Platform name; prefixes the libvirt objects the platform creates.
    public var platform: String
    /// Three-byte prefix of allocated MACs; must be locally administered and unicast.
    public var macPrefix: String?
    public var hosts: [HostDef]
    public var processors: ProcessorPoolDef
    public var vlans: [VLANDef]
    public var storage: StorageDef?
    public var personalities: [PersonalityDef]
    public var standby: StandbyPolicyDef?
    public var failover: FailoverDef?
    public var services: [ServiceIPDef]?

    public static let defaultMACPrefix = "02:56:50"
    public var effectiveMACPrefix: String { macPrefix ?? Self.defaultMACPrefix }
}

public struct HostDef: Codable, Sendable, Equatable {
    public var name: String
    /// libvirt URI, e.g. qemu:///system or qemu+ssh://root@host2/system.
    public var uri: String
    /// auto (probe: the first type that really boots), qemu (TCG) or kvm; absent: probe, as auto.
    public var domainType: DomainTypeChoice?
    /// linux-bridge (default) or openvswitch (802.1Q tags rendered).
    public var switchType: SwitchType?

    enum CodingKeys: String, CodingKey { case name, uri, domainType, switchType = "switch" }

    public var isOpenVSwitch: Bool { switchKind == .openvswitch }
}

public struct ProcessorPoolDef: Codable, Sendable, Equatable {
    public var vcpus: Int
    public var memoryMiB: Int
    /// Directory of the processor image; default /var/lib/virtualplatform/images/processor.
    public var image: String?
    public var members: [ProcessorDef]
}

public struct ProcessorDef: Codable, Sendable, Equatable {
    public var name: String
    public var host: String
}

public struct VLANDef: Codable, Sendable, Equatable {
    public var name: String
    /// 802.1Q id, 1–4094.
    public var id: Int
    /// IPv4 CIDR, e.g. 10.30.1.0/24.
    public var subnet: String
    /// The host's address on the VLAN; default: the subnet's first address.
    public var gateway: String?
    /// isolated (default: members reach only each other) or routed.
    public var mode: VLANMode?
    /// Linux bridge name (≤ 15 characters); default derived from the platform and the id.
    public var bridge: String?
}

public struct StorageDef: Codable, Sendable, Equatable {
    public var pools: [StoragePoolDef]
}

public struct StoragePoolDef: Codable, Sendable, Equatable {
    public var name: String
    public var host: String
    /// dir (a directory on the host), the default.
    public var type: StoragePoolType?
    public var path: String
    public var volumes: [VolumeDef]
}

public struct VolumeDef: Codable, Sendable, Equatable {
    public var name: String
    /// Size with a unit: 64MiB, 2GiB, 1000000B.
    public var capacity: String
    /// raw (default) or qcow2.
    public var format: VolumeFormat?
}

public struct PersonalityDef: Codable, Sendable, Equatable {
    public var name: String
    public var nics: [NICDef]
    public var disks: [DiskDef]?

    public init(name: String, nics: [NICDef], disks: [DiskDef]? = nil) { self.name = name; self.nics = nics; self.disks = disks }
}

public struct NICDef: Codable, Sendable, Equatable {
    public var vlan: String
    /// A virtual MAC, or absent / "auto" to allocate one under the platform's prefix.
    public var mac: String?
    /// The address DHCP reserves for the MAC; absent to allocate one in the VLAN's subnet.
    public var ip: String?

    public init(vlan: String, mac: String? = nil, ip: String? = nil) { self.vlan = vlan; self.mac = mac; self.ip = ip }

    public var wantsAllocatedMAC: Bool { mac == nil || mac == "auto" }
}

public struct DiskDef: Codable, Sendable, Equatable {
    /// Guest target: vdb… (virtio) or sda… (SCSI).
    public var target: String
    /// "pool/volume".
    public var volume: String
}

public struct StandbyPolicyDef: Codable, Sendable, Equatable {
    /// hot (booted, no personality; the default) or cold (defined, off).
    public var mode: StandbyMode?
    /// How many processors to keep as standbys; default: all processors without a personality.
    public var count: Int?
    /// Prefer a standby on the failed processor's host (default true).
    public var preferSameHost: Bool?
}

/// How `vpctl serve` detects failures and moves personalities.
public struct FailoverDef: Codable, Sendable, Equatable {
    public var heartbeat: HeartbeatDef?
    /// VLAN names, most preferred first: the order of each processor's heartbeat addresses
    /// (primary, then alternates). VLANs not listed follow in the personality's NIC order.
    public var classOfService: [String]?
    /// How long a standby may take to answer on every address after the move.
    public var confirmTimeoutSeconds: Int?
    /// How long a planned move waits for established service-IP connections to its source to
    /// finish before stopping it (default 10).
    public var drainTimeoutSeconds: Int?
}

public struct HeartbeatDef: Codable, Sendable, Equatable {
    /// Time between heartbeat rounds to one processor.
    public var intervalMs: Int?
    /// Shortest wait for a reply; the wait grows with the processor's learned response time.
    public var timeoutMs: Int?
    /// Consecutive missed heartbeats after which an adapter (address) is unreachable.
    public var threshold: Int?
}

public struct ServiceIPDef: Codable, Sendable, Equatable {
    public var name: String
    public var address: String
    public var port: Int
    /// tcp or udp (the key `protocol`).
    public var transport: ServiceProtocol
    /// Personalities that serve it.
    public var members: [String]
    /// The VLAN on which the host reaches the members (their address there is the backend);
    /// default: the first VLAN, in the first member's NIC order, that every member is on.
    public var vlan: String?
    /// Choose the processor from the source port as well as the source address (default false:
    /// one client address always reaches one processor).
    public var hashSourcePort: Bool?
    /// Maglev lookup table size; a prime (default 65537).
    public var tableSize: Int?
    /// Relative share per member personality (default 1 each).
    public var weights: [String: Int]?
    /// Administrator priority of each VLAN for this service, highest first (reference 003): orders
    /// the per-client address lists. Without it the lists are ordered by hop distance.
    public var networkPriority: [String: Int]?
    /// A check of each member's workload run by `vpctl serve` (none by default: then a member's
    /// health is its processor's and its backend address's).
    public var healthCheck: ServiceHealthCheckDef?

    public static let defaultTableSize = 65537

    enum CodingKeys: String, CodingKey {
        case name, address, port, transport = "protocol", members, vlan, hashSourcePort, tableSize, weights, networkPriority,
             healthCheck
    }
}

/// A service's health check, as keepalived's TCP_CHECK/HTTP_GET and HAProxy's `check` do it:
/// every `intervalMs` the host connects to each member's backend address (and for `http` sends
/// `GET path` and reads the status line); `fall` failures in a row take the member out of the
/// service's table, `rise` successes in a row bring it back.
public struct ServiceHealthCheckDef: Codable, Sendable, Equatable {
    /// tcp (the connection is accepted) or http (and the answer has the expected status).
    public var type: HealthCheckType
    /// Default: the service's port.
    public var port: Int?
    /// http only; default "/".
    public var path: String?
    /// http only; default 200.
    public var expectStatus: Int?
    public var intervalMs: Int?
    /// How long one check may take; at most `intervalMs`.
    public var timeoutMs: Int?
    public var rise: Int?
    public var fall: Int?

    // HAProxy's defaults for rise and fall; a check a second, half of it to answer.
    public static let defaultIntervalMs = 1000
    public static let defaultTimeoutMs = 500
    public static let defaultRise = 2
    public static let defaultFall = 3
    public static let defaultPath = "/"
    public static let defaultExpectStatus = 200

    public init(type: HealthCheckType, port: Int? = nil, path: String? = nil, expectStatus: Int? = nil, intervalMs: Int? = nil,
                timeoutMs: Int? = nil, rise: Int? = nil, fall: Int? = nil) {
        self.type = type; self.port = port; self.path = path; self.expectStatus = expectStatus
        self.intervalMs = intervalMs; self.timeoutMs = timeoutMs; self.rise = rise; self.fall = fall
    }
}
