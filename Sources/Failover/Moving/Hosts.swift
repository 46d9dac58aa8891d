import Libvirt
import Synchronization
import SystemSupport

/// The libvirt connection to each host, reopened when it closed (a restarted libvirtd, a host
/// back from a network cut). Remote connections get keepalive so a dead link is noticed.
public final class Hosts: Sendable {
    private let uris: [String: String]
    private let open = Mutex<[String: Connection]>([:])

    public init(uris: [String: String], connections: [String: Connection] = [:]) {
        self.uris = uris
        open.withLock { $0 = connections }
    }

    public var names: [String] { uris.keys.sorted() }
    public func uri(of host: String) -> String? { uris[host] }

    /// The host's connection, reopened if it closed. Throws when the host cannot be reached.
    public func connection(_ host: String) throws -> Connection {
        guard let uri = uris[host] else { throw PlatformError(.notFound, "host '\(host)'", "not in the platform definition") }
        return try open.withLock { open in
            if let c = open[host], c.isOpen { return c }
            let c = try Connection(uri: uri)
            if Self.isRemote(uri) { try? c.setKeepAlive(interval: 2, count: 3) }
            open[host] = c
            return c
        }
    }

    /// A URI that names another machine (qemu+ssh://host/system), as opposed to this host's daemon.
    public static func isRemote(_ uri: String) -> Bool {
        guard let range = uri.range(of: "://") else { return false }
        let rest = uri[range.upperBound...]
        return !(rest.hasPrefix("/") || rest.hasPrefix("localhost/"))
    }
}
