import AdminAPI
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// Every class of malformed request is refused with a 4xx problem naming what was wrong, and
/// changes nothing (the fence requests, well formed, would fence a standby).
@Suite struct MalformedRequestTests {
    struct Refused: Sendable {
        var method: HTTPRequest.Method
        var uri: String
        var body: String? = nil
        var headers: HTTPFields = [:]
        var status: HTTPResponse.Status
        /// What the problem's detail must name.
        var names: String
    }

    /// Sends each request to a fresh platform's API, expects its status and a problem naming
    /// what it must, and the platform as it was.
    func expectRefused(_ make: (APIFixture) -> [Refused]) async throws {
        let f = try await APIFixture()
        let app = Application(router: f.api.router())
        let requests = make(f)
        do {
            try await app.test(.router) { client in
                for r in requests {
                    let what = "\(r.method) \(r.uri) \(r.body?.prefix(60) ?? "")"
                    let before = try await PlatformSnapshot(f.platform)
                    try await client.execute(uri: r.uri, method: r.method, headers: r.headers, body: r.body.map { ByteBuffer(string: $0) }) { response in
                        #expect(response.status == r.status, "\(what)")
                        #expect(response.headers[.contentType] == "application/problem+json", "\(what)")
                        let problem = try JSONDecoder().decode(ProblemDetails.self, from: Data(response.body.readableBytesView))
                        #expect(problem.status == Int(r.status.code), "\(what)")
                        #expect(problem.detail.contains(r.names), "\(what): '\(problem.detail)' names \(r.names)")
                    }
                    #expect(try await PlatformSnapshot(f.platform) == before, "\(what) changed nothing")
                }
            }
        } catch {
            await f.tearDown()
            throw error
        }
        await f.tearDown()
    }

    @Test func malformedJSONUnknownFieldsAndWrongTypesAre4xxNamingTheField() async throws {
        try await expectRefused { f in
            let p3 = "\(f.name)-p3"
            return [
                Refused(method: .post, uri: "/v1/fence", body: #"{"processor": "\#(p3)", "confirm": true"#, status: .badRequest, names: "not valid JSON"),
                Refused(method: .post, uri: "/v1/fence", body: #"{"processor": "\#(p3)", "confirm": true, "force": true}"#,
                        status: .badRequest, names: "field 'force': unknown field"),
                Refused(method: .post, uri: "/v1/fence", body: #"{"processor": "\#(p3)", "confirm": "yes"}"#, status: .badRequest, names: "field 'confirm'"),
                Refused(method: .post, uri: "/v1/fence", body: #"{"confirm": true}"#, status: .badRequest, names: "field 'processor': missing"),
                Refused(method: .post, uri: "/v1/fence", body: #"["\#(p3)"]"#, status: .badRequest, names: "the body"),
                Refused(method: .post, uri: "/v1/fence", body: #"{"processor": "\#(p3)", "confirm": true}"#, headers: [.contentType: "text/plain"],
                        status: .unsupportedMediaType, names: "application/json"),
                Refused(method: .get, uri: "/v1/moves?limit=0", status: .badRequest, names: "query parameter 'limit': '0'"),
                Refused(method: .post, uri: "/v1/moves/abc/abort", status: .badRequest, names: "path parameter 'id': 'abc'"),
                Refused(method: .get, uri: "/v1/events", headers: [.accept: "text/event-stream", HTTPFields.Element.Name("Last-Event-ID")!: "last"],
                        status: .badRequest, names: "header 'Last-Event-ID': 'last'"),
            ]
        }
    }

    @Test func aBodyOverTheSizeLimitIs413() async throws {
        try await expectRefused { f in
            // A definition padded with a comment past 4 MiB: well formed, but too large to read.
            let padded = f.definition + "\n# " + String(repeating: "x", count: 4 << 20) + "\n"
            return [Refused(method: .post, uri: "/v1/apply", body: padded, status: .contentTooLarge, names: "too large")]
        }
    }

    @Test func unknownObjectsAre404NamingTheObject() async throws {
        try await expectRefused { f in
            [
                Refused(method: .post, uri: "/v1/fence", body: #"{"processor": "\#(f.name)-p9", "confirm": true}"#, status: .notFound,
                        names: "processor '\(f.name)-p9'"),
                Refused(method: .post, uri: "/v1/repair", body: #"{"processor": "nope"}"#, status: .notFound, names: "processor 'nope'"),
                Refused(method: .post, uri: "/v1/failover", body: #"{"personality": "web", "to": "nope"}"#, status: .notFound, names: "processor 'nope'"),
                Refused(method: .post, uri: "/v1/failover", body: #"{"personality": "db"}"#, status: .notFound, names: "personality 'db'"),
                Refused(method: .post, uri: "/v1/moves/999/abort", status: .notFound, names: "move 999"),
                Refused(method: .get, uri: "/v1/nothing-here", status: .notFound, names: "no such route"),
            ]
        }
    }
}
