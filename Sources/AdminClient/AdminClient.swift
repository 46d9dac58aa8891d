import AdminProtocol
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PlatformEngine
import ServiceControl
import StateStore

/// The admin API of a running `vpctl serve`, over its Unix socket or over TCP with its bearer
/// token. Answers decode into the types the server encodes; a problem-details answer is thrown as
/// `DaemonProblem`, a daemon that cannot be reached as `DaemonUnreachable`.
public struct AdminClient: Sendable {
    public enum Address: Sendable, Equatable, CustomStringConvertible {
        case unixSocket(path: String)
        case tcp(host: String, port: Int, token: String)

        public var description: String {
            switch self {
            case .unixSocket(let path): path
            case .tcp(let host, let port, _): "\(host.contains(":") ? "[\(host)]" : host):\(port)"
            }
        }
    }

    public let address: Address
    let http: HTTPClient
    /// A read or a small change answers quickly; a planned move answers when it is done.
    static let quickAnswer: TimeAmount = .seconds(30)
    static let longAnswer: TimeAmount = .hours(1)

    public init(address: Address, http: HTTPClient = .shared) {
        self.address = address
        self.http = http
    }

    public func status() async throws -> PlatformStatus { try await get("/v1/status") }
    public func services() async throws -> [ServiceReport] { try await get("/v1/services") }
    public func moves(limit: Int = 1000) async throws -> [FailoverRecord] { try await get("/v1/moves?limit=\(limit)") }
    public func move(id: Int64) async throws -> FailoverRecord { try await get("/v1/moves/\(id)") }

    /// The daemon's metrics in Prometheus' text exposition format, as a scraper reads them.
    public func metrics() async throws -> String {
        let response = try await execute(request("/metrics", method: .GET), timeout: Self.quickAnswer)
        try await Self.requireSuccess(response)
        return String(buffer: try await response.body.collect(upTo: Self.maxAnswer))
    }

    /// The last `limit` events, or those after event `after`, oldest first.
    public func events(after: Int64? = nil, limit: Int) async throws -> [PlatformEvent] {
        try await get("/v1/events?limit=\(limit)" + (after.map { "&after=\($0)" } ?? ""))
    }

    public func failover(_ body: FailoverRequest) async throws -> FailoverRecord {
        try await post("/v1/failover", body, timeout: Self.longAnswer)
    }

    public func abortMove(id: Int64) async throws -> FailoverRecord {
        try await send(request("/v1/moves/\(id)/abort", method: .POST), timeout: Self.longAnswer)
    }

    public func fence(_ body: FenceRequest) async throws -> Outcome { try await post("/v1/fence", body, timeout: Self.longAnswer) }
    public func repair(_ body: RepairRequest) async throws -> Outcome { try await post("/v1/repair", body, timeout: Self.longAnswer) }

    /// Every event after `after` as it is recorded (Server-Sent Events), until the daemon stops
    /// or the task is cancelled.
    public func followEvents(after: Int64) async throws -> AsyncThrowingStream<PlatformEvent, any Error> {
        var request = request("/v1/events?after=\(after)", method: .GET)
        request.headers.add(name: "Accept", value: "text/event-stream")
        let response = try await execute(request, timeout: Self.quickAnswer)
        try await Self.requireSuccess(response)
        return AsyncThrowingStream { continuation in
            let reading = Task {
                let decoder = WireJSON.decoder()
                do {
                    var parser = ServerSentEventParser()
                    for try await buffer in response.body {
                        for event in parser.feed(buffer.readableBytesView) {
                            continuation.yield(try decoder.decode(PlatformEvent.self, from: Data(event.data.utf8)))
                        }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in reading.cancel() }
        }
    }

    // MARK: HTTP

    func get<T: Decodable>(_ path: String) async throws -> T {
        try await send(request(path, method: .GET), timeout: Self.quickAnswer)
    }

    func post<T: Decodable>(_ path: String, _ body: some Encodable, timeout: TimeAmount) async throws -> T {
        var request = request(path, method: .POST)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try WireJSON.encoder(pretty: false).encode(body)))
        return try await send(request, timeout: timeout)
    }

    func request(_ path: String, method: HTTPMethod) -> HTTPClientRequest {
        var request: HTTPClientRequest
        switch address {
        case .unixSocket(let socket):
            request = HTTPClientRequest(url: URL(httpURLWithSocketPath: socket, uri: path)?.absoluteString ?? "http+unix://invalid\(path)")
        case .tcp(let host, let port, let token):
            request = HTTPClientRequest(url: "http://\(host.contains(":") ? "[\(host)]" : host):\(port)\(path)")
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        request.method = method
        return request
    }

    func send<T: Decodable>(_ request: HTTPClientRequest, timeout: TimeAmount) async throws -> T {
        let response = try await execute(request, timeout: timeout)
        try await Self.requireSuccess(response)
        let body = try await response.body.collect(upTo: Self.maxAnswer)
        do { return try WireJSON.decoder().decode(T.self, from: Data(body.readableBytesView)) } catch {
            throw DaemonUnreachable(address: address, cause: "its answer to \(request.method.rawValue) \(Self.path(request)) is not what vpctl expects: \(error)")
        }
    }

    func execute(_ request: HTTPClientRequest, timeout: TimeAmount) async throws -> HTTPClientResponse {
        do { return try await http.execute(request, timeout: timeout) } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw DaemonUnreachable(address: address, cause: "\(request.method.rawValue) \(Self.path(request)): \(error)")
        }
    }

    /// A 4xx or 5xx is the daemon's problem details, thrown as they came.
    static func requireSuccess(_ response: HTTPClientResponse) async throws {
        guard response.status.code >= 300 else { return }
        let body = (try? await response.body.collect(upTo: maxAnswer)).map { Data($0.readableBytesView) } ?? Data()
        if let problem = try? WireJSON.decoder().decode(ProblemDetails.self, from: body) { throw DaemonProblem(problem) }
        let text = String(decoding: body, as: UTF8.self)
        throw DaemonProblem(ProblemDetails(status: Int(response.status.code), title: response.status.reasonPhrase, kind: "internal",
                                           detail: text.isEmpty ? response.status.reasonPhrase : text))
    }

    /// A status of 1,000 processors is a few MB of JSON.
    static let maxAnswer = 64 << 20

    static func path(_ request: HTTPClientRequest) -> String {
        // http+unix URLs carry the socket in the host part; the path is what tells requests apart.
        URL(string: request.url)?.path ?? request.url
    }
}
