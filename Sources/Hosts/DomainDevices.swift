import LibvirtXML

/// The NICs and disks a domain has, read from its XML (a definition, the live XML, or libvirt's
/// status file, which wraps the live domain in `<domstatus>`).
public struct DomainDevices: Sendable, Equatable {
    public struct NIC: Sendable, Hashable {
        public var mac: String
        public var network: String
        public init(mac: String, network: String) { self.mac = mac.lowercased(); self.network = network }
    }
    public struct Disk: Sendable, Hashable {
        public var target: String
        /// "pool/volume" for a pool's volume, else the file's path.
        public var source: String
        public var format: String
        public init(target: String, source: String, format: String = "raw") {
            self.target = target; self.source = source; self.format = format
        }
        public static func source(of spec: DiskSpec) -> String {
            switch spec.source {
            case .volume(let pool, let volume): "\(pool)/\(volume)"
            case .file(let path): path
            }
        }
    }
    public var nics: [NIC]
    public var disks: [Disk]

    public init(nics: [NIC] = [], disks: [Disk] = []) { self.nics = nics; self.disks = disks }

    public func has(mac: String) -> Bool { nics.contains { $0.mac == mac.lowercased() } }
    public func has(target: String) -> Bool { disks.contains { $0.target == target } }
    public func has(_ device: Device) -> Bool {
        switch device {
        case .nic(let nic): has(mac: nic.mac)
        case .disk(let disk): has(target: disk.target)
        }
    }

    /// Read by `XMLTree.parse`, not `XMLDocument`: on Linux every `XMLDocument` stays in memory,
    /// and `vpctl serve` reads these on every look at a host.
    public init(xml: String) throws {
        let top = try XMLTree.parse(xml)
        let root = top.name == "domstatus" ? top.child("domain") : top
        let devices = root?.child("devices")
        nics = (devices?.children("interface") ?? []).map { e in
            NIC(mac: e.child("mac")?[attribute: "address"] ?? "", network: e.child("source")?[attribute: "network"] ?? "")
        }
        disks = (devices?.children("disk") ?? []).compactMap { e -> Disk? in
            guard let target = e.child("target")?[attribute: "dev"], let source = e.child("source") else { return nil }
            let format = e.child("driver")?[attribute: "type"] ?? "raw"
            if let pool = source[attribute: "pool"], let volume = source[attribute: "volume"] {
                return Disk(target: target, source: "\(pool)/\(volume)", format: format)
            }
            return Disk(target: target, source: source[attribute: "file"] ?? "", format: format)
        }
    }
}
