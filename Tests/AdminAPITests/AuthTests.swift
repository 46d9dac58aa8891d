import AdminAPI
import Foundation
import Testing
import TestSupport

/// Over TCP a request without the bearer token, or with another, is a 401 that changes nothing;
/// the same request with the token does what it says.
@Suite struct AuthTests {
    func post(_ path: String, _ body: String, headers: [String] = []) -> String {
        (["POST \(path) HTTP/1.1", "Host: vp", "Connection: close", "Content-Type: application/json", "Content-Length: \(body.utf8.count)"]
            + headers).joined(separator: "\r\n") + "\r\n\r\n" + body
    }

    @Test func withoutTheRightTokenNothingChanges() async throws {
        let f = try await APIFixture()
        defer { Task { await f.tearDown() } }
        let tokenFile = f.directory + "/token"
        FileManager.default.createFile(atPath: tokenFile, contents: Data("s3cret-token\n".utf8), attributes: [.posixPermissions: 0o600])
        let server = try AdminServer(api: f.api, listen: try .tcp("127.0.0.1:0"), tokenFile: tokenFile)
        let (ports, running) = AsyncStream.makeStream(of: Int?.self)
        let task = Task { try await server.run { running.yield($0) } }
        defer { task.cancel() }
        let port = try #require(try await collect(ports, within: .seconds(20), "the admin API listening", until: { _ in true }).first ?? nil)

        let fence = #"{"processor": "\#(f.name)-p3", "confirm": true}"#
        let before = try await PlatformSnapshot(f.platform)
        for headers in [[], ["Authorization: Bearer s3cret-tokem"], ["Authorization: Basic czNjcmV0LXRva2Vu"], ["Authorization: Bearer "]] {
            let response = try await RawHTTP.exchange(.tcp(port: port), post("/v1/fence", fence, headers: headers))
            #expect(RawHTTP.status(response) == 401, "\(headers)")
            #expect(response.contains("\"kind\":\"unauthorized\""), "\(headers)")
            #expect(try await PlatformSnapshot(f.platform) == before, "\(headers): nothing changed")
        }
        let allowed = try await RawHTTP.exchange(.tcp(port: port), post("/v1/fence", fence, headers: ["Authorization: Bearer s3cret-token"]))
        #expect(RawHTTP.status(allowed) == 200)
        #expect(try await PlatformSnapshot(f.platform) != before, "with the token the same request fences the processor")
    }
}
