import AdminAPI
import Foundation
import Hummingbird
import HummingbirdTesting
import PlatformEngine
import Reconciler
import StateStore
import Testing

/// Every route in-process (HummingbirdTesting's router client) against a platform on libvirt's
/// test driver: the answers of the library functions the CLI calls, and errors as problem details.
@Suite struct RouteTests {
    func withAPI(metrics: @escaping @Sendable () -> String = { "" },
                 _ body: @escaping @Sendable (APIFixture, any TestClientProtocol) async throws -> Void) async throws {
        let fixture = try await APIFixture(metrics: metrics)
        let app = Application(router: fixture.api.router())
        do {
            try await app.test(.router) { client in try await body(fixture, client) }
        } catch {
            await fixture.tearDown()
            throw error
        }
        await fixture.tearDown()
    }

    func decode<T: Decodable>(_ type: T.Type, _ response: TestResponse) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(T.self, from: Data(response.body.readableBytesView))
    }

    func json(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    @Test func statusProcessorsAndPersonalitiesAreWhatStatusSays() async throws {
        try await withAPI { f, client in
            try await client.execute(uri: "/v1/status", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                let status = try decode(PlatformStatus.self, response)
                #expect(status.platform == f.name)
                #expect(status.processors.map(\.name) == ["\(f.name)-p1", "\(f.name)-p2", "\(f.name)-p3"])
            }
            try await client.execute(uri: "/v1/processors", method: .get) { response in
                let processors = try decode([PlatformStatus.Processor].self, response)
                #expect(processors.filter { $0.personality == "web" }.count == 1)
            }
            try await client.execute(uri: "/v1/personalities", method: .get) { response in
                let body = String(buffer: response.body)
                #expect(body.contains("\"name\" : \"web\""))
                #expect(body.contains("10.107.\(f.subnet).10"))
            }
            try await client.execute(uri: "/v1/services", method: .get) { response in
                let decoded = try decode([String].self, response)
                #expect(decoded.isEmpty, "the fixture defines no service")
            }
        }
    }

    @Test func unknownObjectsAre404ProblemDetails() async throws {
        try await withAPI { f, client in
            try await client.execute(uri: "/v1/moves/999", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "application/problem+json")
                let problem = try decode(ProblemDetails.self, response)
                #expect(problem.status == 404 && problem.kind == "not-found" && problem.detail.contains("move 999"))
            }
            try await client.execute(uri: "/v1/failover", method: .post, body: json(#"{"personality": "nope"}"#)) { response in
                #expect(response.status == .notFound)
                let decoded = try decode(ProblemDetails.self, response)
                #expect(decoded.detail.contains("personality 'nope'"))
            }
            try await client.execute(uri: "/v1/fence", method: .post, body: json(#"{"processor": "nope", "confirm": true}"#)) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test func malformedRequestsAre400NamingWhatIsWrong() async throws {
        try await withAPI { f, client in
            try await client.execute(uri: "/v1/moves/abc", method: .get) { response in
                #expect(response.status == .badRequest)
                let decoded = try decode(ProblemDetails.self, response)
                #expect(decoded.detail.contains("'abc'"))
            }
            try await client.execute(uri: "/v1/fence", method: .post, body: json(#"{"processor": "\#(f.name)-p1", "confirmed": true}"#)) { response in
                #expect(response.status == .badRequest)
                let decoded = try decode(ProblemDetails.self, response)
                #expect(decoded.detail.contains("field 'confirmed'"), "a misspelt field is named")
            }
            try await client.execute(uri: "/v1/repair", method: .post, body: json(#"{"processor": 3}"#)) { response in
                #expect(response.status == .badRequest)
                let decoded = try decode(ProblemDetails.self, response)
                #expect(decoded.detail.contains("field 'processor'"))
            }
            try await client.execute(uri: "/v1/repair", method: .post, body: json("{not json")) { response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/v1/events?after=x", method: .get) { response in
                #expect(response.status == .badRequest)
                let decoded = try decode(ProblemDetails.self, response)
                #expect(decoded.detail.contains("'after'"))
            }
        }
    }

    @Test func repairingAProcessorThatCarriesAPersonalityIsAConflict() async throws {
        try await withAPI { f, client in
            let carrier = try #require(try f.platform.store.bindings()["web"])
            try await client.execute(uri: "/v1/repair", method: .post, body: json(#"{"processor": "\#(carrier)"}"#)) { response in
                #expect(response.status == .conflict)
                let decoded = try decode(ProblemDetails.self, response)
                #expect(decoded.detail.contains("carries personality 'web'"))
            }
        }
    }

    @Test func fenceConfirmAnswersWhatTheCLIPrints() async throws {
        try await withAPI { f, client in
            try await client.execute(uri: "/v1/fence", method: .post, body: json(#"{"processor": "\#(f.name)-p3", "confirm": true}"#)) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("vouches that \(f.name)-p3 is off"))
            }
        }
    }

    @Test func movesAreListedShownAndAborted() async throws {
        try await withAPI { f, client in
            let source = try #require(try f.platform.store.bindings()["web"])
            let declared = try #require(try f.platform.store.declare(
                FailoverRecord(personality: "web", source: source, sourceHost: "local", planned: true, reason: "test", detectedAt: Date()),
                event: PlatformEvent(kind: .step, processor: source, personality: "web", detail: "test move")))
            let id = try #require(declared.id)
            try await client.execute(uri: "/v1/moves", method: .get) { response in
                let decoded = try decode([FailoverRecord].self, response)
                #expect(decoded.map(\.id) == [id])
            }
            try await client.execute(uri: "/v1/moves/\(id)", method: .get) { response in
                let decoded = try decode(FailoverRecord.self, response)
                #expect(decoded.personality == "web")
            }
            try await client.execute(uri: "/v1/apply", method: .post, body: json(f.definition)) { response in
                #expect(response.status == .conflict, "as vpctl apply refuses while a move is unfinished")
                let decoded = try decode(ProblemDetails.self, response)
                #expect(decoded.detail.contains("being moved"))
            }
            try await client.execute(uri: "/v1/moves/\(id)/abort", method: .post) { response in
                #expect(response.status == .ok)
                let decoded = try decode(FailoverRecord.self, response)
                #expect(decoded.step == .aborted)
            }
            try await client.execute(uri: "/v1/moves/\(id)/abort", method: .post) { response in
                #expect(response.status == .conflict, "a finished move has nothing to abort")
            }
        }
    }

    @Test func planAndApplyTakeADefinitionOfThisPlatformOnly() async throws {
        try await withAPI { f, client in
            try await client.execute(uri: "/v1/plan", method: .post, body: json(f.definition)) { response in
                #expect(response.status == .ok)
                let decoded = try decode([PlanEntry].self, response)
                #expect(decoded.isEmpty, "applied already: nothing to do")
            }
            let wider = f.definition.replacingOccurrences(of: "    - { name: \(f.name)-p3, host: local }\n",
                                                          with: "    - { name: \(f.name)-p3, host: local }\n    - { name: \(f.name)-p4, host: local }\n")
            try await client.execute(uri: "/v1/plan", method: .post, body: json(wider)) { response in
                let decoded = try decode([PlanEntry].self, response)
                #expect(decoded.map(\.object) == ["processor \(f.name)-p4"])
            }
            try await client.execute(uri: "/v1/apply", method: .post, body: json(wider)) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("processor \(f.name)-p4"))
            }
            try await client.execute(uri: "/v1/plan", method: .post,
                                     body: json(f.definition.replacingOccurrences(of: "platform: \(f.name)", with: "platform: other"))) { response in
                #expect(response.status == .unprocessableContent)
                let decoded = try decode(ProblemDetails.self, response)
                #expect(decoded.detail.contains("field 'platform'"))
            }
            try await client.execute(uri: "/v1/plan", method: .post,
                                     body: json(f.definition.replacingOccurrences(of: "id: 100", with: "id: 5000"))) { response in
                #expect(response.status == .unprocessableContent)
                let problem = try decode(ProblemDetails.self, response)
                #expect(problem.issues?.contains { $0.field == "vlans[0].id" } == true, "the validator's issues, with their fields")
            }
        }
    }

    @Test func eventsAsJSONAfterAnIdWithALimit() async throws {
        try await withAPI { f, client in
            for n in 1...4 { try f.platform.store.record(PlatformEvent(kind: .service, detail: "event \(n)")) }
            let all = try f.platform.store.events(limit: 4)
            try await client.execute(uri: "/v1/events?after=\(all[0].id!)&limit=2", method: .get) { response in
                let decoded = try decode([PlatformEvent].self, response)
                #expect(decoded.map(\.detail) == ["event 2", "event 3"])
            }
        }
    }

    @Test func metricsServesTheExpositionItIsGiven() async throws {
        try await withAPI(metrics: { "# TYPE vp_up gauge\nvp_up 1\n" }) { _, client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
                #expect(String(buffer: response.body) == "# TYPE vp_up gauge\nvp_up 1\n")
            }
        }
    }
}
