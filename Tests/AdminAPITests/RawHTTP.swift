import Foundation

/// A bare HTTP/1.1 client over a real socket (Unix or TCP loopback), so that the tests see the
/// bytes the daemon sends. Blocking I/O runs on its own thread, bounded by a receive timeout.
enum RawHTTP {
    struct Failure: Error, CustomStringConvertible { let description: String }

    enum Target { case unix(String), tcp(port: Int) }

    /// Sends `request` and reads until the connection closes, or until `stop` holds on what came.
    static func exchange(_ target: Target, _ request: String, timeout: Duration = .seconds(10),
                         until stop: @escaping @Sendable (String) -> Bool = { _ in false }) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try blockingExchange(target, request, timeout: timeout, until: stop) })
            }
        }
    }

    /// `GET path` with `Connection: close` and the extra header lines given.
    static func get(_ target: Target, _ path: String, headers: [String] = []) async throws -> String {
        try await exchange(target, (["GET \(path) HTTP/1.1", "Host: vp", "Connection: close"] + headers).joined(separator: "\r\n") + "\r\n\r\n")
    }

    private static func blockingExchange(_ target: Target, _ request: String, timeout: Duration,
                                         until stop: (String) -> Bool) throws -> String {
        let fd = try connect(target)
        defer { close(fd) }
        var wait = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        let bytes = Array(request.utf8)
        guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == bytes.count else {
            throw Failure(description: "sending the request: \(String(cString: strerror(errno)))")
        }
        var received = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n == 0 { break }
            guard n > 0 else { throw Failure(description: "no more within \(timeout); so far: \(String(decoding: received, as: UTF8.self))") }
            received.append(contentsOf: buffer[0..<n])
            if stop(String(decoding: received, as: UTF8.self)) { break }
        }
        return String(decoding: received, as: UTF8.self)
    }

    private static func connect(_ target: Target) throws -> Int32 {
        switch target {
        case .unix(let path):
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
            let ok = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0 }
            }
            guard ok else { close(fd); throw Failure(description: "connecting to \(path): \(String(cString: strerror(errno)))") }
            return fd
        case .tcp(let port):
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let ok = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            guard ok else { close(fd); throw Failure(description: "connecting to 127.0.0.1:\(port): \(String(cString: strerror(errno)))") }
            return fd
        }
    }

    /// The status code of a raw response ("HTTP/1.1 401 Unauthorized" → 401).
    static func status(_ response: String) -> Int? {
        response.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) }
    }

    /// A whole raw response's header lines (the status line first) and its body, de-chunked when
    /// it came in chunks.
    static func split(_ response: String) throws -> (headers: [String], body: Data) {
        let bytes = Array(response.utf8)
        let separator = Array("\r\n\r\n".utf8)
        guard let end = (0...(bytes.count - separator.count)).first(where: { bytes[$0..<$0 + separator.count].elementsEqual(separator) }) else {
            throw Failure(description: "no end of headers in: \(response.prefix(200))")
        }
        let headers = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        var body = Array(bytes[(end + separator.count)...])
        if headers.contains(where: { $0.lowercased() == "transfer-encoding: chunked" }) {
            var plain: [UInt8] = [], at = 0
            while let lineEnd = (at..<max(at, body.count - 1)).first(where: { body[$0] == 13 && body[$0 + 1] == 10 }),
                  let size = Int(String(decoding: body[at..<lineEnd], as: UTF8.self), radix: 16), size > 0 {
                plain += body[(lineEnd + 2)..<(lineEnd + 2 + size)]
                at = lineEnd + 2 + size + 2
            }
            body = plain
        }
        return (headers, Data(body))
    }
}
