import Libvirt
import SystemSupport

/// The platform's hosts by name.
public struct PlatformHosts: Sendable {
    private let byName: [String: any Host]

    public init(_ hosts: [any Host]) {
        byName = Dictionary(hosts.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// libvirt hosts of these URIs, sharing `connections` where given (opened when first needed otherwise).
    public init(uris: [String: String], connections: [String: Connection] = [:], processes: QEMUProcess = .system) {
        self.init(uris.map { LibvirtHost(name: $0.key, uri: $0.value, connection: connections[$0.key], processes: processes) })
    }

    public var names: [String] { byName.keys.sorted() }
    public var all: [any Host] { names.compactMap { byName[$0] } }

    public func host(_ name: String) throws -> any Host {
        guard let host = byName[name] else { throw PlatformError(.notFound, nil, "host '\(name)' is not in the platform definition") }
        return host
    }

    public func isLocal(_ name: String) -> Bool { byName[name]?.isLocal ?? false }
}
