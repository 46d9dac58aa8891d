import AdminAPI
import Foundation
import StateStore
import Synchronization
import Testing
import TestSupport

/// The daemon's listening rules for real: a Unix socket of mode 0600 in a directory it makes
/// 0700, a stale socket replaced and a live one refused; over TCP a bearer token from a file only
/// its owner can read, 401 without it; the event stream resumed from an event id.
@Suite struct SocketAndTokenTests {
    /// Runs `server` until `body` returns; `body` gets the TCP port (nil on a Unix socket).
    func serving(_ server: AdminServer, _ body: (Int?) async throws -> Void) async throws {
        let (ports, running) = AsyncStream.makeStream(of: Int?.self)
        let task = Task { try await server.run { running.yield($0) } }
        defer { task.cancel() }
        let port = try await collect(ports, within: .seconds(20), "the admin API listening", until: { _ in true })
        try await body(port.first ?? nil)
    }

    func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
    }

    @Test func theUnixSocketIsTheOwnersOnlyAndServesTheAPI() async throws {
        let f = try await APIFixture()
        defer { Task { await f.tearDown() } }
        let socket = f.directory + "/run/\(f.name).sock"
        let server = try AdminServer(api: f.api, listen: .unixSocket(path: socket))
        #expect(try mode(f.directory + "/run") == 0o700, "the missing directory is made 0700")
        try await serving(server) { _ in
            #expect(try mode(socket) == 0o600)
            #expect(throws: AdminServerError.self, "a live socket is another daemon's") {
                try AdminServer(api: f.api, listen: .unixSocket(path: socket))
            }
            // After the probe above, so that its connection is accepted before the server stops.
            let response = try await RawHTTP.get(.unix(socket), "/v1/processors")
            #expect(RawHTTP.status(response) == 200)
            #expect(response.contains("\(f.name)-p1"))
        }
    }

    @Test func aSocketLeftByADeadDaemonIsReplaced() async throws {
        let f = try await APIFixture()
        defer { Task { await f.tearDown() } }
        let socket = f.directory + "/stale.sock"
        // Bound, then closed without unlink: what a killed daemon leaves.
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(socket.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        close(fd)
        #expect(FileManager.default.fileExists(atPath: socket))

        try await serving(try AdminServer(api: f.api, listen: .unixSocket(path: socket))) { _ in
            let response = try await RawHTTP.get(.unix(socket), "/v1/status")
            #expect(RawHTTP.status(response) == 200)
        }
    }

    @Test func overTCPEveryRequestNeedsTheBearerToken() async throws {
        let f = try await APIFixture()
        defer { Task { await f.tearDown() } }
        let tokenFile = f.directory + "/token"
        FileManager.default.createFile(atPath: tokenFile, contents: Data("s3cret-token\n".utf8), attributes: [.posixPermissions: 0o600])
        let server = try AdminServer(api: f.api, listen: try .tcp("127.0.0.1:0"), tokenFile: tokenFile)
        try await serving(server) { port in
            let port = try #require(port)
            let none = try await RawHTTP.get(.tcp(port: port), "/v1/status")
            #expect(RawHTTP.status(none) == 401)
            #expect(none.contains("application/problem+json") && none.contains("WWW-Authenticate: Bearer"))
            let wrong = try await RawHTTP.get(.tcp(port: port), "/v1/status", headers: ["Authorization: Bearer s3cret-tokem"])
            #expect(RawHTTP.status(wrong) == 401)
            let metrics = try await RawHTTP.get(.tcp(port: port), "/metrics")
            #expect(RawHTTP.status(metrics) == 401, "metrics too")
            let right = try await RawHTTP.get(.tcp(port: port), "/v1/status", headers: ["Authorization: Bearer s3cret-token"])
            #expect(RawHTTP.status(right) == 200)
        }
    }

    @Test func aTokenFileOthersCanReadIsRefused() async throws {
        let f = try await APIFixture()
        defer { Task { await f.tearDown() } }
        let tokenFile = f.directory + "/token"
        FileManager.default.createFile(atPath: tokenFile, contents: Data("s3cret".utf8), attributes: [.posixPermissions: 0o644])
        do {
            _ = try AdminServer(api: f.api, listen: try .tcp("127.0.0.1:0"), tokenFile: tokenFile)
            Issue.record("a token file of mode 0644 was accepted")
        } catch let error as AdminServerError {
            #expect(error.description.contains("mode 644") && error.description.contains("0600"))
        }
        #expect(throws: AdminServerError.self, "TCP without a token") { try AdminServer(api: f.api, listen: try .tcp("127.0.0.1:0")) }
    }

    @Test func theEventStreamResumesAfterTheLastEventID() async throws {
        let f = try await APIFixture()
        defer { Task { await f.tearDown() } }
        let socket = f.directory + "/events.sock"
        for n in 1...3 { try f.platform.store.record(PlatformEvent(kind: .service, detail: "event \(n)")) }
        let ids = try f.platform.store.events(limit: 3).compactMap(\.id)
        try await serving(try AdminServer(api: f.api, listen: .unixSocket(path: socket))) { _ in
            let request = ["GET /v1/events HTTP/1.1", "Host: vp", "Accept: text/event-stream", "Last-Event-ID: \(ids[0])"]
                .joined(separator: "\r\n") + "\r\n\r\n"
            let later = ids[2] + 1
            let store = f.platform.store
            let recorded = Mutex(false)
            // Once the replay is in, an event recorded now must follow it on the open stream.
            let stream = try await RawHTTP.exchange(.unix(socket), request) { text in
                if text.contains("id: \(ids[2])\n"), recorded.withLock({ done in defer { done = true }; return !done }) {
                    try? store.record(PlatformEvent(kind: .service, detail: "event 4"))
                }
                return text.contains("id: \(later)\n")
            }
            #expect(recorded.withLock { $0 })
            #expect(stream.contains("Content-Type: text/event-stream") || stream.contains("content-type: text/event-stream"))
            // Split on every newline: "\r\n" of the chunked encoding is one Character in Swift.
            let seen = stream.split(whereSeparator: \.isNewline).filter { $0.hasPrefix("id: ") }
            #expect(seen == ["id: \(ids[1])", "id: \(ids[2])", "id: \(later)"], "after the given id, in order, none twice")
            #expect(stream.contains("event: service\ndata: {"))
        }
    }

    @Test func theEventStreamDeliversEveryEventOnceInOrderUnderConcurrentWriters() async throws {
        let f = try await APIFixture()
        defer { Task { await f.tearDown() } }
        let socket = f.directory + "/events.sock"
        let store = f.platform.store
        let before = try store.events(limit: 1).last?.id ?? 0
        let writers = 4, each = 250
        try await serving(try AdminServer(api: f.api, listen: .unixSocket(path: socket))) { _ in
            let request = ["GET /v1/events HTTP/1.1", "Host: vp", "Accept: text/event-stream", "Last-Event-ID: \(before)"]
                .joined(separator: "\r\n") + "\r\n\r\n"
            // Four writers at once, while the stream is being read: the store orders them, the stream must keep that order.
            let writing = Task.detached {
                await withTaskGroup(of: Void.self) { group in
                    for w in 0..<writers {
                        group.addTask { for n in 0..<each { try? store.record(PlatformEvent(kind: .service, detail: "writer \(w) event \(n)")) } }
                    }
                }
            }
            let last = before + Int64(writers * each)
            let stream = try await RawHTTP.exchange(.unix(socket), request, timeout: .seconds(60)) { $0.contains("id: \(last)\n") }
            await writing.value
            let seen = stream.split(whereSeparator: \.isNewline).filter { $0.hasPrefix("id: ") }.compactMap { Int64($0.dropFirst(4)) }
            #expect(seen == Array((before + 1)...last), "every event once, in the store's order, none missing")
            let details = stream.split(whereSeparator: \.isNewline).filter { $0.hasPrefix("data: ") && $0.contains("writer ") }
            #expect(details.count == writers * each)
        }
    }
}
