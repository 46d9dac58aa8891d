import Foundation
#if canImport(Glibc)
import Glibc
import SystemSupport
#endif

/// The health check's I/O: a TCP connection to the member's backend address (and for `http`,
/// `GET path HTTP/1.0` and its status line), all within the spec's timeout. Blocking: run it
/// on a thread of its own (`HealthCheckRunner`).
public struct SocketHealthProbe: HealthProbe {
    public init() {}

    public func probe(_ spec: HealthCheckSpec, address: String) -> HealthProbeResult {
        let deadline = ContinuousClock.now + spec.timeout
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return .failed("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_port = spec.port.bigEndian
        guard inet_pton(AF_INET, address, &target.sin_addr) == 1 else { return .failed("'\(address)' is not an IPv4 address") }
        let started = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if started != 0 {
            guard errno == EINPROGRESS else { return .failed(String(cString: strerror(errno))) }
            guard wait(fd, for: Int16(POLLOUT), until: deadline) else { return .failed("no connection within \(spec.timeout)") }
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
            if error != 0 { return .failed(String(cString: strerror(error))) }
        }
        guard case .http(let path, let expected) = spec.kind else { return .passed }
        let request = Array("GET \(path) HTTP/1.0\r\nHost: \(address)\r\nUser-Agent: vpctl-serve-health-check\r\n\r\n".utf8)
        guard write(fd, request) else { return .failed("the request could not be sent: \(String(cString: strerror(errno)))") }
        guard let line = statusLine(fd, until: deadline) else { return .failed("no HTTP status line within \(spec.timeout)") }
        if line.isEmpty { return .failed("the connection was closed without an answer") }
        let parts = line.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]) else {
            return .failed("not an HTTP answer: \(line.prefix(60))")
        }
        return status == expected ? .passed : .failed("HTTP \(status), expected \(expected)")
    }

    private func wait(_ fd: Int32, for events: Int16, until deadline: ContinuousClock.Instant) -> Bool {
        while true {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return false }
            let ms = max(1, left.pollTimeout)
            var pfd = pollfd(fd: fd, events: events, revents: 0)
            let n = poll(&pfd, 1, ms)
            if n > 0 { return true }
            if n < 0, errno == EINTR { continue }
            if n < 0 { return false }
        }
    }

    private func write(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 { sent += n; continue }
            guard n < 0, errno == EAGAIN || errno == EINTR else { return false }
            if !wait(fd, for: Int16(POLLOUT), until: ContinuousClock.now + .milliseconds(100)) { return false }
        }
        return true
    }

    /// The answer's first line (without CRLF; empty when the connection closed before any byte),
    /// or nil when none came in time.
    private func statusLine(_ fd: Int32, until deadline: ContinuousClock.Instant) -> String? {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 512)
        while received.count < 1024 {
            if let end = received.firstIndex(of: 0x0A) {
                return String(decoding: received[..<end], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            guard wait(fd, for: Int16(POLLIN), until: deadline) else { return nil }
            let n = recv(fd, &chunk, chunk.count, 0)
            if n > 0 { received += chunk[..<n]; continue }
            if n < 0, errno == EAGAIN || errno == EINTR { continue }
            // Closed: a last line without its newline still counts.
            return String(decoding: received, as: UTF8.self)
        }
        return nil
    }
}
