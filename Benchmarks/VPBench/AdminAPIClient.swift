import AsyncHTTPClient
import Foundation

/// The daemon's admin API as a client sees it: AsyncHTTPClient over the Unix socket
/// (`http+unix://`), keep-alive connections from its pool, as `curl --unix-socket` would do it.
final class AdminAPIClient: Sendable {
    let socket: String
    private let http: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        // Each event-stream follower holds a connection for the whole run (the default allows 8).
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    init(socket: String) { self.socket = socket }

    /// Ends the client's connections; call once, at the end.
    func shutdown() async { try? await http.shutdown() }

    struct Reply {
        var status: Int
        var body: Data
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    func url(_ path: String) throws -> String {
        guard let url = URL(httpURLWithSocketPath: socket, uri: path) else { throw BenchError("socket path '\(socket)' cannot be put in a URL") }
        return url.absoluteString
    }

    func get(_ path: String, timeout: Duration = .seconds(30)) async throws -> Reply {
        try await send(HTTPClientRequest(url: try url(path)), timeout: timeout)
    }

    func post(_ path: String, body: String, contentType: String, timeout: Duration = .seconds(300)) async throws -> Reply {
        var request = HTTPClientRequest(url: try url(path))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        request.body = .bytes(Array(body.utf8))
        return try await send(request, timeout: timeout)
    }

    private func send(_ request: HTTPClientRequest, timeout: Duration) async throws -> Reply {
        let response = try await http.execute(request, timeout: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000))
        return Reply(status: Int(response.status.code), body: Data(try await response.body.collect(upTo: 64 << 20).readableBytesView))
    }

    /// `GET /v1/events` as a Server-Sent Events stream, resumed after `lastEventID` when given.
    /// The body's chunks as they come; the stream ends when the task is cancelled or `timeout` passes.
    func eventStream(lastEventID: Int64?, timeout: Duration) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: try url("/v1/events"))
        request.headers.add(name: "Accept", value: "text/event-stream")
        if let lastEventID { request.headers.add(name: "Last-Event-ID", value: String(lastEventID)) }
        let response = try await http.execute(request, timeout: .seconds(Int64(timeout.components.seconds)))
        guard response.status == .ok else { throw BenchError("GET /v1/events answered \(response.status)") }
        return response
    }

    /// Until the daemon answers `GET /v1/status` (it binds its socket after starting).
    func waitUntilAnswering(within limit: Duration, while running: () -> Bool) async throws {
        let deadline = ContinuousClock.now + limit
        while true {
            if let reply = try? await get("/v1/status", timeout: .seconds(10)), reply.status == 200 { return }
            guard running() else { throw BenchError("vpctl serve exited before its admin API answered on \(socket)") }
            guard ContinuousClock.now < deadline else { throw BenchError("the admin API did not answer on \(socket) within \(limit)") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
