import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
import SystemSupport
#endif

/// One request to a service and what came of it.
public struct RequestOutcome: Sendable, Codable, Equatable {
    public var source: String
    /// Wall-clock start (seconds since 1970), comparable with the journal's declaration times.
    public var startedAt: Double
    public var milliseconds: Double
    /// The processor that answered (first word of the demo workload's reply).
    public var server: String?
    /// The client address the server saw (proves no source NAT).
    public var seenAs: String?
    public var error: String?
    public var ok: Bool { error == nil }
}

/// Requests from many source addresses inside a network namespace. Each worker is a thread of its
/// own that joins the namespace (setns affects only the calling thread), so the test or benchmark
/// process stays in the host's namespace.
public enum LoadClient {
    public enum L4: Sendable { case tcp, udp }

    /// One request from each source, in order.
    public static func once(namespace: String, sources: [String], target: String, port: UInt16, l4: L4 = .tcp,
                            timeout: Duration = .seconds(2)) throws -> [RequestOutcome] {
        try onThread(namespace: namespace) { sources.map { request(from: $0, to: target, port: port, l4: l4, timeout: timeout) } }
    }

    /// Constant load: `workers` threads cycle over the sources, one new connection per request and
    /// a pause of `pause` between a worker's requests, until `duration` has passed.
    public static func steady(namespace: String, sources: [String], target: String, port: UInt16, workers: Int,
                              pause: Duration, duration: Duration, timeout: Duration = .seconds(1)) throws -> [RequestOutcome] {
        let results = Mutex<[RequestOutcome]>([])
        let failures = Mutex<[String]>([])
        let group = DispatchGroup()
        let deadline = ContinuousClock.now + duration
        for w in 0..<workers {
            let mine = stride(from: w, to: sources.count, by: workers).map { sources[$0] }
            guard !mine.isEmpty else { continue }
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                do {
                    try joinNamespace(namespace)
                    var local: [RequestOutcome] = []
                    var i = 0
                    while ContinuousClock.now < deadline {
                        local.append(request(from: mine[i % mine.count], to: target, port: port, l4: .tcp, timeout: timeout))
                        i += 1
                        Thread.sleep(forTimeInterval: pause.seconds)
                    }
                    results.withLock { $0 += local }
                } catch { failures.withLock { $0.append("\(error)") } }
            }
            thread.start()
        }
        group.wait()
        if let first = failures.withLock({ $0.first }) { throw PlatformError(.unavailable, "load client", first) }
        return results.withLock { $0 }.sorted { $0.startedAt < $1.startedAt }
    }

    static func onThread<T: Sendable>(namespace: String, _ body: @escaping @Sendable () throws -> T) throws -> T {
        let result = Mutex<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            result.withLock { $0 = Result { try joinNamespace(namespace); return try body() } }
            done.signal()
        }
        thread.start()
        done.wait()
        return try result.withLock { $0! }.get()
    }

    static func joinNamespace(_ name: String) throws {
        let fd = open("/run/netns/\(name)", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw PlatformError(.unavailable, "network namespace \(name)", "cannot open it: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard setNamespace(fd, cloneNewNet) == 0 else { throw PlatformError(.unavailable, "load client", "setns(\(name)): \(String(cString: strerror(errno)))") }
    }

    // Glibc declares setns(2) only under _GNU_SOURCE, which Swift's Glibc module does not set.
    private typealias SetNS = @convention(c) (Int32, Int32) -> Int32
    private static let cloneNewNet: Int32 = 0x4000_0000
    private static let setNamespace: SetNS = unsafeBitCast(dlsym(UnsafeMutableRawPointer(bitPattern: 0), "setns")!, to: SetNS.self)

    /// One HTTP/1.0 GET (TCP) or one datagram (UDP) from `source`.
    public static func request(from source: String, to target: String, port: UInt16, l4: L4, timeout: Duration) -> RequestOutcome {
        let started = Date().timeIntervalSince1970
        let clock = ContinuousClock.now
        var outcome = RequestOutcome(source: source, startedAt: started, milliseconds: 0)
        do {
            let reply = try exchange(from: source, to: target, port: port, l4: l4, timeoutMs: timeout.pollTimeout)
            let line = reply.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
            let words = line.split(separator: " ")
            if words.count == 2 {
                outcome.server = String(words[0])
                outcome.seenAs = String(words[1].split(separator: ":").first ?? "")
            } else {
                outcome.error = "unexpected reply: \(line.prefix(80))"
            }
        } catch {
            outcome.error = "\(error)"
        }
        let elapsed = ContinuousClock.now - clock
        outcome.milliseconds = elapsed.milliseconds
        return outcome
    }

    static func exchange(from source: String, to target: String, port: UInt16, l4: L4, timeoutMs: Int32) throws -> String {
        let fd = socket(AF_INET, Int32(l4 == .tcp ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw PlatformError(.internal, "load client", "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var local = try address(source, port: 0)
        var remote = try address(target, port: port)
        try withSockaddr(&local) { guard bind(fd, $0, $1) == 0 else { throw PlatformError(.unavailable, "load client", "bind \(source): \(String(cString: strerror(errno)))") } }
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        let deadline = ContinuousClock.now + .milliseconds(Int(timeoutMs))
        func wait(_ events: Int16) throws {
            let left = deadline - ContinuousClock.now
            let ms = left.pollTimeout
            var p = pollfd(fd: fd, events: events, revents: 0)
            let n = poll(&p, 1, ms)
            if n == 0 { throw PlatformError(.unavailable, "load client", "timeout") }
            if n < 0 { throw PlatformError(.internal, "load client", "poll: \(String(cString: strerror(errno)))") }
        }
        try withSockaddr(&remote) { addr, len in
            if connect(fd, addr, len) != 0 && errno != EINPROGRESS { throw PlatformError(.unavailable, "load client", "connect: \(String(cString: strerror(errno)))") }
        }
        if l4 == .tcp {
            try wait(Int16(POLLOUT))
            var err: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
            if err != 0 { throw PlatformError(.unavailable, "load client", "connect: \(String(cString: strerror(err)))") }
        }
        let request = Array((l4 == .tcp ? "GET / HTTP/1.0\r\nHost: \(target)\r\n\r\n" : "whoami\n").utf8)
        guard send(fd, request, request.count, Int32(MSG_NOSIGNAL)) == request.count else {
            throw PlatformError(.unavailable, "load client", "send: \(String(cString: strerror(errno)))")
        }
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            try wait(Int16(POLLIN))
            let n = recv(fd, &buffer, buffer.count, 0)
            if n < 0 {
                if errno == EAGAIN { continue }
                throw PlatformError(.unavailable, "load client", "recv: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            reply += buffer[0..<n]
            if l4 == .udp { break }
        }
        return String(decoding: reply, as: UTF8.self)
    }

    static func address(_ ip: String, port: UInt16) throws -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        guard inet_pton(AF_INET, ip, &a.sin_addr) == 1 else { throw PlatformError(.invalidInput, "address '\(ip)'", "not an IPv4 address") }
        return a
    }

    static func withSockaddr(_ a: inout sockaddr_in, _ body: (UnsafePointer<sockaddr>, socklen_t) throws -> Void) throws {
        try withUnsafePointer(to: &a) {
            try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }
}
