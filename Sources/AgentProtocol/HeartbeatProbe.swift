#if canImport(Glibc)
import Glibc
import SystemSupport
#endif

/// Sends one heartbeat to an agent address and waits for its reply. Blocking; for checks, tests
/// and the agent's reachability probe (the failure detector keeps its own long-lived sockets).
public enum HeartbeatProbe {
    /// The round-trip time, or nil when no matching reply came within `timeout`.
    public static func ping(_ address: String, port: UInt16 = AgentPorts.heartbeat,
                            timeout: Duration = .seconds(1), sequence: UInt64 = 1) throws -> Duration? {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw PlatformError(.internal, "heartbeat socket", "cannot create it: \(String(cString: strerror(errno)))") }
        defer { close(fd) }

        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_port = port.bigEndian
        guard inet_pton(AF_INET, address, &target.sin_addr) == 1 else {
            throw PlatformError(.invalidInput, "address '\(address)'", "not an IPv4 address")
        }
        let token = UInt64.random(in: 1...UInt64.max)
        let request = Heartbeat(kind: .request, sequence: sequence, token: token).encoded()
        let start = ContinuousClock.now
        let sent = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, request, request.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard sent == request.count else {
            throw PlatformError(.unavailable, "address \(address)", "cannot send it a heartbeat: \(String(cString: strerror(errno)))")
        }
        let deadline = start + timeout
        var buffer = [UInt8](repeating: 0, count: 64)
        while ContinuousClock.now < deadline {
            let left = deadline - ContinuousClock.now
            let ms = max(1, left.pollTimeout)
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, ms) > 0 else { continue }
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0, let reply = Heartbeat(decoding: buffer[0..<n]) else { continue }
            if reply.kind == .reply, reply.token == token, reply.sequence == sequence {
                return ContinuousClock.now - start
            }
        }
        return nil
    }

    /// Waits until `address` answers a heartbeat (a processor booting, a NIC getting its lease).
    public static func waitForReply(_ address: String, port: UInt16 = AgentPorts.heartbeat, within limit: Duration) async throws {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if try ping(address, port: port, timeout: .milliseconds(200)) != nil { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw PlatformError(.unavailable, "address \(address)", "does not answer heartbeats after \(limit)")
    }
}
