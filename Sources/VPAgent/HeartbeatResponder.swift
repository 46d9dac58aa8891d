import AgentProtocol
import FlyingSocks
import FoundationEssentials
import Glibc

/// Answers heartbeat requests on UDP, bound to 0.0.0.0 so every interface (present and future)
/// is covered: each valid `Heartbeat` request gets `request.reply()` sent back to its sender.
/// Anything else is ignored.
struct HeartbeatResponder: Sendable {
    let socket: AsyncSocket

    static func bind(port: UInt16, pool: some AsyncSocketPool) throws -> HeartbeatResponder {
        let socket = try Socket(domain: AF_INET, type: .datagram)
        try socket.setValue(true, for: .localAddressReuse)
        try socket.bind(to: .inet(port: port))
        return HeartbeatResponder(socket: try AsyncSocket(socket: socket, pool: pool))
    }

    func run() async {
        while !Task.isCancelled {
            do {
                let (sender, bytes): (any SocketAddress, [UInt8]) = try await socket.receive(atMost: 512)
                guard let request = Heartbeat(decoding: bytes), request.kind == .request,
                      let peer = sender as? sockaddr_storage else { continue }
                reply(request.reply().encoded(), to: peer)
            } catch {
                log("heartbeat: \(error)")
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
    }

    /// One sendto(2). (FlyingSocks' AsyncSocket.send(_:to:) crashed here when given the sender's
    /// address back.) A reply that cannot be sent at once is dropped: the controller's next
    /// heartbeat is the retry.
    private func reply(_ bytes: [UInt8], to peer: sockaddr_storage) {
        var peer = peer
        let length = socklen_t(peer.ss_family == sa_family_t(AF_INET6)
            ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size)
        let sent = withUnsafePointer(to: &peer) { address in
            address.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bytes.withUnsafeBytes { sendto(socket.socket.file.rawValue, $0.baseAddress, $0.count, 0, address, length) }
            }
        }
        if sent < 0 { log("heartbeat: cannot reply: \(errnoText())") }
    }
}
