import Foundation
import LibvirtXML
#if canImport(FoundationXML)
import FoundationXML
#endif

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

    public init(xml: String) throws {
        let top = try XMLDocument(xmlString: xml).rootElement()
        let root = top?.name == "domstatus" ? top?.elements(forName: "domain").first : top
        func child(_ e: XMLElement?, _ name: String) -> XMLElement? { e?.elements(forName: name).first }
        func attr(_ e: XMLElement?, _ name: String) -> String? { e?.attribute(forName: name)?.stringValue }
        let devices = child(root, "devices")
        nics = (devices?.elements(forName: "interface") ?? []).map { e in
            NIC(mac: attr(child(e, "mac"), "address") ?? "", network: attr(child(e, "source"), "network") ?? "")
        }
        disks = (devices?.elements(forName: "disk") ?? []).compactMap { e -> Disk? in
            guard let target = attr(child(e, "target"), "dev"), let source = child(e, "source") else { return nil }
            let format = attr(child(e, "driver"), "type") ?? "raw"
            if let pool = attr(source, "pool"), let volume = attr(source, "volume") {
                return Disk(target: target, source: "\(pool)/\(volume)", format: format)
            }
            return Disk(target: target, source: attr(source, "file") ?? "", format: format)
        }
    }
}
