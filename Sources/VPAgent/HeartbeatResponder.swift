import AgentProtocol
import FoundationEssentials
import Glibc

/// Answers heartbeat requests on UDP, bound to 0.0.0.0 so every interface (present and future)
/// is covered: each valid `Heartbeat` request gets `request.reply()` sent back to its sender.
/// Anything else is ignored.
///
/// Runs on a thread of its own with blocking recvfrom/sendto: the guest has one vCPU, so the
/// Swift task pool has one thread, and anything that blocks it (a disk sync, a file read) must
/// not delay a heartbeat long enough to look like a hang.
final class HeartbeatResponder: @unchecked Sendable {
    private let fd: Int32

    init(port: UInt16) throws {
        fd = try boundSocket(SOCK_DGRAM, port: port, for: "heartbeat")
    }

    func start() {
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        pthread_create(&thread, nil, { context in
            Unmanaged<HeartbeatResponder>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        }, context)
    }

    private func run() {
        var buffer = [UInt8](repeating: 0, count: 512)
        var peer = sockaddr_storage()
        while true {
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let n = withUnsafeMutablePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buffer, buffer.count, 0, $0, &length) }
            }
            guard n > 0 else {
                if n < 0 && errno != EINTR { log("heartbeat: \(errnoText())") }
                continue
            }
            guard let request = Heartbeat(decoding: buffer[0..<n]), request.kind == .request else { continue }
            let reply = request.reply().encoded()
            // A reply that cannot be sent is dropped: the controller's next heartbeat is the retry.
            let sent = withUnsafePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, reply, reply.count, 0, $0, length) }
            }
            if sent < 0 { log("heartbeat: cannot reply: \(errnoText())") }
        }
    }
}
