import Foundation

/// A network namespace standing for a client network: one veth link to the host, any number of
/// client addresses, and a default route through the host (which routes service IPs).
public struct ClientNetwork: Sendable {
    public let namespace: String
    /// Host end of the link.
    public let hostInterface: String
    public let hostAddress: String
    public let clients: [String]

    /// - Parameters:
    ///   - name: namespace name (also the stem of the veth names; at most 11 characters).
    ///   - subnet: the first three octets, e.g. "10.219.1": the host is .1, clients .10 upwards.
    public static func create(name: String, subnet: String, clients count: Int) throws -> ClientNetwork {
        precondition(name.count <= 11 && count <= 200)
        try? remove(name: name)
        let net = ClientNetwork(namespace: name, hostInterface: "\(name)-h", hostAddress: "\(subnet).1",
                                clients: (0..<count).map { "\(subnet).\(10 + $0)" })
        try Command.run("ip", ["netns", "add", name])
        try Command.run("ip", ["link", "add", net.hostInterface, "type", "veth", "peer", "name", "\(name)-c", "netns", name])
        try Command.run("ip", ["addr", "add", "\(net.hostAddress)/24", "dev", net.hostInterface])
        try Command.run("ip", ["link", "set", net.hostInterface, "up"])
        try net.exec("ip", ["link", "set", "lo", "up"])
        for client in net.clients { try net.exec("ip", ["addr", "add", "\(client)/24", "dev", "\(name)-c"]) }
        try net.exec("ip", ["link", "set", "\(name)-c", "up"])
        try net.exec("ip", ["route", "add", "default", "via", net.hostAddress])
        return net
    }

    public static func remove(name: String) throws {
        try Command.run("ip", ["link", "del", "\(name)-h"], allowFailure: true)
        try Command.run("ip", ["netns", "del", name], allowFailure: true)
    }

    public func remove() { try? Self.remove(name: namespace) }

    /// Runs a program inside the namespace.
    @discardableResult
    public func exec(_ tool: String, _ arguments: [String], allowFailure: Bool = false) throws -> String {
        try Command.run("ip", ["netns", "exec", namespace, try Command.locate(tool)] + arguments, allowFailure: allowFailure)
    }

    /// Whether the host forwards IPv4 (service IPs need it).
    public static func hostForwards() -> Bool {
        (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_forward", encoding: .utf8))?.hasPrefix("1") ?? false
    }
}
