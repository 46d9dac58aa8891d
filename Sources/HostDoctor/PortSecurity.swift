import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Libvirt
import LibvirtXML

/// Port security on personality NICs (`PortSecurityFilter`): can this libvirt host enforce it,
/// and making it ready. Chosen over platform-owned nftables rules in the bridge family because
/// libvirt binds the filter to the guest's tap device itself, when the interface starts or is
/// hot-plugged, and removes it with the interface: a personality's NICs are protected on whichever
/// processor carries them, with no tap names for the controller to follow. Tried on this kind of
/// host (kernel 6.18, no legacy ebtables): libvirt's ebtables backend runs through ebtables-nft
/// and the rules land in nftables' `bridge nat` table.
public enum PortSecurity {
    public struct Unavailable: Error, CustomStringConvertible, Sendable, Equatable {
        public var uri: String
        public var problems: [String]
        public var description: String {
            "host \(uri) cannot enforce port security on personality NICs (a guest could send with another "
                + "personality's MAC or address): " + problems.joined(separator: "; ") + "; nothing was changed"
        }
    }

    /// libvirt's mock driver runs no guest: there is no traffic to filter and no nwfilter driver.
    static func isMock(_ uri: String) -> Bool { uri.hasPrefix("test:") }

    /// A local host's ebtables is libvirt's backend; a remote host's is checked by its libvirt.
    static func isLocal(_ uri: String) -> Bool {
        guard let url = URL(string: uri) else { return false }
        return url.host == nil || url.host == "" || url.host == "localhost"
    }

    /// What keeps the host from enforcing the filter, each with its fix; empty when it can.
    static func problems(_ connection: Connection, uri: String) -> [String] {
        var problems: [String] = []
        do {
            if try connection.nwfilterIfPresent(named: PortSecurityFilter.base) == nil {
                problems.append("libvirt has no '\(PortSecurityFilter.base)' network filter "
                                + "(apt-get install libvirt-daemon-config-nwfilter, then restart libvirtd)")
            }
        } catch {
            problems.append("libvirt's nwfilter driver does not answer: \(error)")
        }
        if isLocal(uri) {
            let ebtables = ebtablesStatus()
            if !ebtables.works { problems.append(ebtables.detail) }
        }
        return problems
    }

    /// libvirt's nwfilter programs the bridge through `ebtables`; it must reach the kernel.
    static func ebtablesStatus() -> (works: Bool, detail: String) {
        guard let ebtables = ["/usr/sbin/ebtables", "/sbin/ebtables"].first(where: FileManager.default.isExecutableFile) else {
            return (false, "ebtables not found (apt-get install ebtables)")
        }
        let version = run(ebtables, ["--version"])
        let list = run(ebtables, ["-t", "nat", "-L"])
        guard version.status == 0, list.status == 0 else {
            return (false, "ebtables cannot program the kernel's bridge filter: \(list.output)")
        }
        return (true, version.output)
    }

    /// The `vpctl doctor` line.
    public static func check(_ connection: Connection, uri: String) -> DoctorCheck {
        if isMock(uri) { return DoctorCheck("port security", .ok, "\(uri) runs no guests: nothing to filter") }
        let problems = problems(connection, uri: uri)
        guard problems.isEmpty else {
            return DoctorCheck("port security", .failed, problems.joined(separator: "; "),
                               fix: "apt-get install libvirt-daemon-config-nwfilter ebtables, restart libvirtd "
                                    + "(scripts/bootstrap-host.sh installs them)")
        }
        let backend = isLocal(uri) ? ebtablesStatus().detail : "the host's libvirt"
        return DoctorCheck("port security", .ok,
                           "libvirt nwfilter '\(PortSecurityFilter.base)' present, \(backend): NICs keep to their MAC and address, no DHCP answers")
    }

    /// Makes the host ready before anything is changed: throws `Unavailable` when it cannot
    /// enforce the filter, otherwise defines `PortSecurityFilter` if it is missing or differs.
    /// Returns true when it (re)defined the filter.
    @discardableResult
    public static func ensure(_ connection: Connection, uri: String) throws -> Bool {
        if isMock(uri) { return false }
        let problems = problems(connection, uri: uri)
        guard problems.isEmpty else { throw Unavailable(uri: uri, problems: problems) }
        let wanted = PortSecurityFilter.render()
        if let existing = try connection.nwfilterIfPresent(named: PortSecurityFilter.name),
           let have = canonical(try existing.xml()), have == canonical(wanted) {
            return false
        }
        try connection.defineNWFilter(xml: wanted)
        return true
    }

    /// Elements with sorted attributes, without whitespace: libvirt's formatting of a filter
    /// differs from ours in quotes and attribute order, not in content.
    static func canonical(_ xml: String) -> String? {
        func form(_ element: XMLElement) -> String {
            let attributes = (element.attributes ?? []).compactMap { a in a.name.map { "\($0)=\(a.stringValue ?? "")" } }.sorted()
            let children = (element.children ?? []).compactMap { $0 as? XMLElement }.map(form)
            let text = children.isEmpty ? (element.stringValue ?? "").trimmingCharacters(in: .whitespacesAndNewlines) : ""
            return "\(element.name ?? "")[\(attributes.joined(separator: ","))]\(text)(\(children.joined()))"
        }
        guard let root = (try? XMLDocument(xmlString: xml))?.rootElement() else { return nil }
        return form(root)
    }

    private static func run(_ program: String, _ arguments: [String]) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return (-1, "\(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
