import FlyingSocks
import FoundationEssentials
import Glibc

/// A deliberately small HTTP/1.1 server on FlyingSocks: one request per connection (answered with
/// `Connection: close`), `Content-Length` bodies only, `Expect: 100-continue` honoured, 10 s to
/// send a request. Enough for the agent's three routes.
///
/// (FlyingFox's HTTPServer would do, but linking FlyingFox pulls FoundationNetworking and with it
/// libcurl into a --static-swift-stdlib binary, which the guest image cannot carry.)
struct HTTPListener: Sendable {
    struct Request: Sendable {
        var method: String
        var path: String
        /// Lowercased names.
        var headers: [String: String]
        var body: Data
    }

    struct Response: Sendable {
        var status: Int
        var contentType: String
        var body: Data

        static func text(_ status: Int, _ text: String) -> Response {
            Response(status: status, contentType: "text/plain; charset=utf-8", body: Data(text.utf8))
        }
    }

    enum Failure: Error { case malformed(String), tooLarge, timedOut }

    static let maxHeaderBytes = 16 * 1024
    static let maxBodyBytes = 1 << 20
    static let requestTimeout: Duration = .seconds(10)

    let listener: AsyncSocket

    static func bind(port: UInt16, pool: some AsyncSocketPool) throws -> HTTPListener {
        let socket = try Socket(domain: AF_INET, type: .stream)
        try socket.setValue(true, for: .localAddressReuse)
        try socket.bind(to: .inet(port: port))
        try socket.listen()
        return HTTPListener(listener: try AsyncSocket(socket: socket, pool: pool))
    }

    /// Accepts connections forever; each is served in its own task.
    func run(_ handler: @escaping @Sendable (Request) async -> Response) async throws {
        while true {
            let client = try await listener.accept()
            Task { await Self.serve(client, handler) }
        }
    }

    private static func serve(_ client: AsyncSocket, _ handler: @escaping @Sendable (Request) async -> Response) async {
        defer { try? client.close() }
        let response: Response
        do {
            let request = try await withTimeout { try await readRequest(from: client) }
            response = await handler(request)
        } catch Failure.malformed(let why) {
            response = .text(400, "bad request: \(why)\n")
        } catch Failure.tooLarge {
            response = .text(413, "request too large\n")
        } catch {
            return   // timed out or the client went away: nothing to answer
        }
        try? await client.write(encode(response))
    }

    private static func readRequest(from client: AsyncSocket) async throws -> Request {
        var buffer: [UInt8] = []
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var headerEnd: Int?
        while headerEnd == nil {
            buffer += try await client.read(atMost: 4096)
            headerEnd = buffer.firstRange(of: separator)?.lowerBound
            if headerEnd == nil, buffer.count > maxHeaderBytes { throw Failure.tooLarge }
        }
        let head = String(decoding: buffer[..<headerEnd!], as: UTF8.self)
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count == 3, requestLine[2].hasPrefix("HTTP/1.") else {
            throw Failure.malformed("request line")
        }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { throw Failure.malformed("header line") }
            headers[line[..<colon].lowercased()] = trimmed(line[line.index(after: colon)...])
        }
        if headers["transfer-encoding"] != nil { throw Failure.malformed("chunked bodies are not supported") }
        let length = try headers["content-length"].map {
            guard let n = Int($0), n >= 0 else { throw Failure.malformed("content-length") }
            return n
        } ?? 0
        guard length <= maxBodyBytes else { throw Failure.tooLarge }
        var body = Array(buffer[(headerEnd! + separator.count)...])
        if body.count < length, headers["expect"]?.lowercased() == "100-continue" {
            try await client.write(Data("HTTP/1.1 100 Continue\r\n\r\n".utf8))
        }
        while body.count < length { body += try await client.read(atMost: length - body.count) }
        let target = String(requestLine[1])
        let path = target.split(separator: "?", maxSplits: 1).first.map(String.init) ?? target
        return Request(method: String(requestLine[0]), path: path, headers: headers, body: Data(body.prefix(length)))
    }

    private static func withTimeout<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: requestTimeout)
                throw Failure.timedOut
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    private static func encode(_ response: Response) -> Data {
        let reasons = [200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
                       409: "Conflict", 413: "Content Too Large", 500: "Internal Server Error"]
        var head = "HTTP/1.1 \(response.status) \(reasons[response.status] ?? "Status")\r\n"
        head += "Content-Type: \(response.contentType)\r\n"
        head += "Content-Length: \(response.body.count)\r\n"
        head += "Connection: close\r\n\r\n"
        return Data(head.utf8) + response.body
    }
}
