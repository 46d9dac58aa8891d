
/// Well-known ports of the in-guest agent.
public enum AgentPorts {
    /// HTTP endpoint serving `GET /v1/report` and `PUT /v1/disks/{serial or name}/marker`.
    public static let http: UInt16 = 7700
    /// UDP port answering controller heartbeats on every interface.
    public static let heartbeat: UInt16 = 7701
    /// The demo workload behind service IPs, on TCP (HTTP) and UDP: answers
    /// `<processor-name> <client-ip>:<client-port>`.
    public static let whoami: UInt16 = 80
}

/// What a processor carries, as reported by its agent at `GET /v1/report`.
public struct AgentReport: Codable, Sendable, Equatable {
    public struct Interface: Codable, Sendable, Equatable {
        public var name: String
        public var mac: String
        /// IPv4 addresses in CIDR form, e.g. "10.0.0.5/24".
        public var addresses: [String]
        public var up: Bool
        public init(name: String, mac: String, addresses: [String], up: Bool) {
            self.name = name; self.mac = mac; self.addresses = addresses; self.up = up
        }
    }
    public struct Disk: Codable, Sendable, Equatable {
        /// Kernel name, e.g. "vda". The guest names disks in the order it finds them, so this
        /// need not match the target in the domain XML; `serial` does.
        public var name: String
        /// The disk's serial number. The controller sets it to the libvirt target ("vdb"), so a
        /// storage mapping can be recognised inside the guest.
        public var serial: String?
        public var sizeBytes: UInt64
        /// Contents of the marker file on the disk's filesystem, nil when there is none.
        public var marker: String?
        /// The disk's filesystem as its superblock says (ext2, ext3, ext4); nil for a blank disk,
        /// foreign data, or an agent older than this field.
        public var filesystem: ExtSuperblock.Kind?
        /// The check the agent ran before it mounted the filesystem, and its result; nil when none
        /// ran (blank disk, formatted by the agent itself, or an older agent).
        public var check: FilesystemCheck?
        public init(name: String, serial: String?, sizeBytes: UInt64, marker: String?,
                    filesystem: ExtSuperblock.Kind? = nil, check: FilesystemCheck? = nil) {
            self.name = name; self.serial = serial; self.sizeBytes = sizeBytes; self.marker = marker
            self.filesystem = filesystem; self.check = check
        }

        /// True when `id` is the disk's serial (its libvirt target) or its kernel name.
        public func matches(_ id: String) -> Bool { serial == id || name == id }
    }
    public var hostname: String
    public var agentVersion: String
    /// Seconds since the guest kernel started (from /proc/uptime).
    public var uptimeSeconds: Double
    public var interfaces: [Interface]
    /// Data disks (the boot medium is the initramfs, so every block disk is a data disk).
    public var disks: [Disk]
    public init(hostname: String, agentVersion: String, uptimeSeconds: Double,
                interfaces: [Interface], disks: [Disk]) {
        self.hostname = hostname; self.agentVersion = agentVersion; self.uptimeSeconds = uptimeSeconds
        self.interfaces = interfaces; self.disks = disks
    }

    /// The disk known to libvirt as `target` (by serial), or with that kernel name.
    public func disk(_ target: String) -> Disk? {
        disks.first { $0.serial == target } ?? disks.first { $0.name == target }
    }

    /// One line for a person reading a failure: who answered, its interfaces and its disks.
    public var summary: String {
        let nics = interfaces.map { "\($0.name) \($0.mac) \($0.up ? "up" : "down") [\($0.addresses.joined(separator: ", "))]" }
        let disks = disks.map { d in
            "\(d.serial ?? d.name): \(d.filesystem.map { "\($0)" } ?? "no filesystem"), "
                + (d.marker.map { "marker \"\($0)\"" } ?? "no marker")
                + (d.check.map { ", check \($0.result): \($0.detail)" } ?? "")
        }
        return "\(hostname) up \(Int(uptimeSeconds)) s; interfaces: \(nics.joined(separator: "; ")); disks: \(disks.isEmpty ? "none" : disks.joined(separator: "; "))"
    }

    /// MAC addresses of all interfaces, lowercase.
    public var macs: [String] { interfaces.map { $0.mac.lowercased() } }
}
