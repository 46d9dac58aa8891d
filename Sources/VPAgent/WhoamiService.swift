import FoundationEssentials
import Glibc
import Synchronization
import SystemSupport

/// The demo workload behind service IPs: tells which processor answered and whom it saw.
/// Answers on TCP and UDP on one port (80), bound to 0.0.0.0 so every interface is covered.
/// Every answer is the line `<processor-name> <client-ip>:<client-port>\n`, where the client is the
/// peer as the guest sees it (so a client can check that no source NAT happened on the way).
///
/// - TCP: a minimal HTTP/1.x responder. Any path; GET and HEAD get `200 OK` (HEAD without the
///   body), other methods `405`, anything unparsable `400`. HTTP/1.1 connections are kept alive
///   unless the client sent `Connection: close`; HTTP/1.0 ones are closed after the answer. A
///   request head must arrive within 2 s (an idle kept-alive connection is closed after 2 s too)
///   and be at most 8 KiB.
/// - UDP: every datagram gets the line back, sent to its sender.
///
/// Like `HeartbeatResponder`, everything runs on threads of its own with blocking sockets, never on
/// the Swift task pool (one thread in a one-vCPU guest, which a blocked task would stall): one
/// thread answers UDP, one accepts TCP connections, and each connection is served by a short-lived
/// detached thread. At most `maxConnections` are served at once; extra connections are closed at
/// once. A client's misbehaviour only ever ends its own connection.
final class WhoamiService: @unchecked Sendable {
    static let maxConnections = 64
    static let maxHeadBytes = 8 * 1024
    /// For a whole request head, and for every write of an answer.
    static let timeoutMilliseconds = 2000
    static let threadStackBytes = 512 * 1024

    private let name: String
    private let port: UInt16
    private let tcp: Int32
    private let udp: Int32
    private let active = Atomic<Int>(0)

    init(name: String, port: UInt16) throws {
        self.name = name
        self.port = port
        tcp = try boundSocket(SOCK_STREAM, port: port, for: "whoami")
        do {
            udp = try boundSocket(SOCK_DGRAM, port: port, for: "whoami")
        } catch {
            close(tcp)
            throw error
        }
        guard listen(tcp, 128) == 0 else {
            let cause = errnoText()
            close(tcp); close(udp)
            throw PlatformError(.unavailable, "whoami TCP port \(port)", "cannot listen on it: \(cause)")
        }
    }


    func start() {
        if !Self.spawn({ self.answerDatagrams() }) { log("whoami: cannot start the UDP thread") }
        if !Self.spawn({ self.acceptConnections() }) { log("whoami: cannot start the TCP thread") }
    }

    /// The answer line for a client.
    private func body(for peer: String) -> [UInt8] { Array("\(name) \(peer)\n".utf8) }

    // MARK: - UDP

    private func answerDatagrams() {
        var buffer = [UInt8](repeating: 0, count: 2048)
        var peer = sockaddr_storage()
        var lastError: Int32 = 0   // logs an error once, not once per datagram
        while true {
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let n = withUnsafeMutablePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(udp, &buffer, buffer.count, 0, $0, &length) }
            }
            if n < 0 {
                if errno != EINTR {
                    if errno != lastError { log("whoami: UDP: \(errnoText())") }
                    lastError = errno
                    usleep(10_000)
                }
                continue
            }
            // Every datagram is answered, an empty one too.
            let reply = body(for: Self.describe(&peer))
            let sent = withUnsafePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(udp, reply, reply.count, 0, $0, length) }
            }
            if sent < 0 {
                // Dropped: UDP clients retry. (E.g. ENETUNREACH for an off-link client while the
                // interface has no default route yet.)
                if errno != lastError { log("whoami: UDP: cannot reply to \(Self.describe(&peer)): \(errnoText())") }
                lastError = errno
            } else {
                lastError = 0
            }
        }
    }

    // MARK: - TCP

    private func acceptConnections() {
        var lastError: Int32 = 0
        while true {
            var peer = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = withUnsafeMutablePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(tcp, $0, &length) }
            }
            guard fd >= 0 else {
                switch errno {
                case EINTR, ECONNABORTED, EPROTO: break
                default:
                    // E.g. EMFILE: back off instead of spinning, log once per kind of failure.
                    if errno != lastError { log("whoami: accept: \(errnoText())") }
                    lastError = errno
                    usleep(100_000)
                }
                continue
            }
            lastError = 0
            // (accept4 is not visible from Swift.) Children are spawned with descriptors 3… closed
            // anyway where glibc can; this covers the rest.
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            guard active.add(1, ordering: .relaxed).newValue <= Self.maxConnections else {
                active.subtract(1, ordering: .relaxed)
                close(fd)
                continue
            }
            let client = Self.describe(&peer)
            if !Self.spawn({ self.serve(fd, client: client) }) {
                active.subtract(1, ordering: .relaxed)
                close(fd)
            }
        }
    }

    private enum Head { case complete([UInt8]), closed, tooLarge }

    /// Serves one connection, request after request while it is kept alive, then closes it.
    private func serve(_ fd: Int32, client: String) {
        defer {
            close(fd)
            active.subtract(1, ordering: .relaxed)
        }
        var yes: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: Self.timeoutMilliseconds / 1000, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

        let body = body(for: client)
        var pending: [UInt8] = []   // received, not yet parsed (a pipelined request, say)
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let response: [UInt8]
            var keepAlive = false
            switch Self.readHead(fd, pending: &pending, chunk: &chunk) {
            case .closed:
                return
            case .tooLarge:
                response = Self.response(status: "431 Request Header Fields Too Large",
                                         body: Array("request head larger than \(Self.maxHeadBytes) bytes\n".utf8),
                                         includeBody: true, keepAlive: false)
            case .complete(let head):
                if let request = Request(parsing: head) {
                    keepAlive = request.keepAlive
                    switch request.method {
                    case "GET", "HEAD":
                        response = Self.response(status: "200 OK", body: body, includeBody: request.method == "GET",
                                                 keepAlive: keepAlive)
                    default:
                        keepAlive = false   // its body, if any, is not read
                        response = Self.response(status: "405 Method Not Allowed", body: Array("GET or HEAD only\n".utf8),
                                                 includeBody: true, keepAlive: false, extra: "Allow: GET, HEAD\r\n")
                    }
                } else {
                    response = Self.response(status: "400 Bad Request", body: Array("malformed request\n".utf8),
                                             includeBody: true, keepAlive: false)
                }
            }
            guard Self.writeAll(fd, response), keepAlive else { return }
        }
    }

    /// Reads until `pending` holds a whole request head (ended by an empty line; CRLF or bare LF)
    /// and takes it out of `pending`. Blank lines before a request are skipped (RFC 9112 §2.2).
    private static func readHead(_ fd: Int32, pending: inout [UInt8], chunk: inout [UInt8]) -> Head {
        let deadline = monotonicMilliseconds() + timeoutMilliseconds
        var scanned = 0
        while true {
            let blank = pending.prefix { $0 == 0x0D || $0 == 0x0A }.count
            if blank > 0 { pending.removeFirst(blank); scanned = 0 }
            if let end = headEnd(pending, from: scanned) {
                guard end <= maxHeadBytes else { return .tooLarge }
                let head = Array(pending[..<end])
                pending.removeFirst(end)
                return .complete(head)
            }
            if pending.count > maxHeadBytes { return .tooLarge }
            scanned = max(0, pending.count - 2)

            let remaining = deadline - monotonicMilliseconds()
            guard remaining > 0 else { return .closed }
            var waiting = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&waiting, 1, Int32(remaining))
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { return .closed }   // timed out, or poll failed
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            guard n > 0 else { return .closed }        // the client hung up, or reset
            pending += chunk[..<n]
        }
    }

    /// The index just past the empty line that ends a head, searching for the line feed that
    /// starts it from `start` on.
    private static func headEnd(_ bytes: [UInt8], from start: Int) -> Int? {
        var i = start
        while i < bytes.count {
            if bytes[i] == 0x0A {
                if i + 1 < bytes.count && bytes[i + 1] == 0x0A { return i + 2 }
                if i + 2 < bytes.count && bytes[i + 1] == 0x0D && bytes[i + 2] == 0x0A { return i + 3 }
            }
            i += 1
        }
        return nil
    }

    private struct Request {
        var method: Substring
        var keepAlive: Bool

        /// nil when the request line is not `METHOD TARGET HTTP/1.x`.
        init?(parsing head: [UInt8]) {
            // Split as bytes: in a String, "\r\n" is one Character and would not split at "\n".
            let lines = head.split(separator: 0x0A, omittingEmptySubsequences: false).map {
                String(decoding: $0.last == 0x0D ? $0.dropLast() : $0, as: UTF8.self)
            }
            let words = lines[0].split(separator: " ")
            guard words.count == 3, words[2].hasPrefix("HTTP/1.") else { return nil }
            method = words[0]
            keepAlive = words[2] != "HTTP/1.0"
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                let name = line[..<colon].lowercased()
                let value = line[line.index(after: colon)...]
                switch name {
                case "connection":
                    if value.split(separator: ",").contains(where: { trimmed($0).lowercased() == "close" }) {
                        keepAlive = false
                    }
                case "content-length":
                    // A request body is never read: close after answering instead of parsing it as
                    // the next request.
                    if trimmed(value) != "0" { keepAlive = false }
                case "transfer-encoding":
                    keepAlive = false
                default:
                    break
                }
            }
        }
    }

    private static func response(status: String, body: [UInt8], includeBody: Bool, keepAlive: Bool,
                                 extra: String = "") -> [UInt8] {
        var bytes = Array(("HTTP/1.1 \(status)\r\nContent-Type: text/plain\r\nContent-Length: \(body.count)\r\n"
            + "Connection: \(keepAlive ? "keep-alive" : "close")\r\n\(extra)\r\n").utf8)
        if includeBody { bytes += body }
        return bytes
    }

    /// false if the client went away or stopped reading (the send timeout).
    private static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 { if errno == EINTR { continue }; return false }
            offset += n
        }
        return true
    }

    // MARK: - Support

    /// "a.b.c.d:port" for an IPv4 peer.
    private static func describe(_ peer: inout sockaddr_storage) -> String {
        guard peer.ss_family == sa_family_t(AF_INET) else { return "?:?" }
        return withUnsafePointer(to: &peer) {
            $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { address in
                var sin = address.pointee
                var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
                guard inet_ntop(AF_INET, &sin.sin_addr, &text, socklen_t(INET_ADDRSTRLEN)) != nil else { return "?:?" }
                let dotted = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                return "\(dotted):\(UInt16(bigEndian: sin.sin_port))"
            }
        }
    }

    private static func monotonicMilliseconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return now.tv_sec * 1000 + now.tv_nsec / 1_000_000
    }

    private final class ThreadBody {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    /// Runs `body` on a new detached thread (its resources are freed when it returns); false if
    /// the thread could not be created.
    private static func spawn(_ body: @escaping @Sendable () -> Void) -> Bool {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        pthread_attr_setstacksize(&attributes, threadStackBytes)
        let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
        var thread = pthread_t()
        let created = pthread_create(&thread, &attributes, { context in
            Unmanaged<ThreadBody>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        }, context)
        guard created == 0 else {
            Unmanaged<ThreadBody>.fromOpaque(context).release()
            return false
        }
        return true
    }
}
