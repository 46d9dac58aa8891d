import AdminAPI
import Foundation
import Hummingbird
import HummingbirdTesting
import Libvirt
import StateStore
import SystemSupport
import Testing

/// Each kind of error leaves the API with its status and, in the problem document, its kind, the
/// object it is about and the field: the same four failures as vpctl's exit codes.
@Suite struct ProblemKindTests {
    @Test func eachKindHasItsStatus() {
        let statuses = Dictionary(uniqueKeysWithValues: ErrorKind.allCases.map { ($0, httpStatus(for: $0).code) })
        #expect(statuses == [.invalidInput: 422, .notFound: 404, .conflict: 409, .unavailable: 503, .internal: 500])
        for kind in ErrorKind.allCases {
            let details = problem(for: PlatformError(kind, "processor 'p3'", field: "memory", "a cause"))
            #expect(details.status == httpStatus(for: kind).code)
            #expect(details.kind == kind.rawValue && details.type == "urn:virtualplatform:problem:\(kind.rawValue)")
            #expect(details.object == "processor 'p3'" && details.field == "memory")
            #expect(details.detail == "processor 'p3', field 'memory': a cause")
        }
    }

    @Test func structuredErrorsKeepTheirStructureAndHaveAKind() {
        #expect(problem(for: MoveRefused(processor: "p2", cause: "failed")).status == 409)
        #expect(problem(for: CancellationError()).status == 500, "an error without a kind is internal")
        #expect(problem(for: CancellationError()).kind == "internal")
    }

    /// A real libvirt error: its code decides its kind, in the table of LibvirtError+Kind.
    @Test func aLibvirtLookupOfNothingIs404() throws {
        let conn = try Connection(uri: "test:///default")
        defer { conn.close() }
        let error = #expect(throws: LibvirtError.self) { try conn.domain(named: "no-such-domain") }
        let details = try #require(error.map { problem(for: $0) })
        #expect(details.status == 404 && details.kind == "not-found")
    }

    func withAPI(_ body: @escaping @Sendable (APIFixture, any TestClientProtocol) async throws -> Void) async throws {
        let fixture = try await APIFixture()
        do {
            try await Application(router: fixture.api.router()).test(.router) { client in try await body(fixture, client) }
        } catch {
            await fixture.tearDown()
            throw error
        }
        await fixture.tearDown()
    }

    func decodedProblem(_ response: TestResponse) throws -> ProblemDetails {
        #expect(response.headers[.contentType] == "application/problem+json")
        return try JSONDecoder().decode(ProblemDetails.self, from: Data(response.body.readableBytesView))
    }

    @Test func aBadDefinitionIsInvalidInputNamingItsField() async throws {
        try await withAPI { f, client in
            let bad = f.definition.replacingOccurrences(of: "vcpus: 1", with: "vcpus: 100")
            try await client.execute(uri: "/v1/plan", method: .post, body: ByteBuffer(string: bad)) { response in
                #expect(response.status == .unprocessableContent)
                let p = try decodedProblem(response)
                #expect(p.kind == "invalid-input" && p.field == "processors.vcpus" && p.issues?.count == 1, "\(p)")
                #expect(p.object?.hasPrefix("platform definition ") == true, "\(p)")
            }
        }
    }

    @Test func anUnknownProcessorIsNotFound() async throws {
        try await withAPI { f, client in
            try await client.execute(uri: "/v1/failover", method: .post,
                                     body: ByteBuffer(string: #"{"personality": "web", "to": "nosuch"}"#)) { response in
                #expect(response.status == .notFound)
                let p = try decodedProblem(response)
                #expect(p.kind == "not-found" && p.object == "processor 'nosuch'", "\(p)")
            }
        }
    }

    @Test func anApplyWhileAMoveIsUnfinishedIsAConflict() async throws {
        try await withAPI { f, client in
            let source = try #require(try f.platform.store.bindings()["web"])
            _ = try #require(try f.platform.store.declare(
                FailoverRecord(personality: "web", source: source, sourceHost: "local", planned: true, reason: "test", detectedAt: Date()),
                event: PlatformEvent(kind: .step, processor: source, personality: "web", detail: "test move")))
            try await client.execute(uri: "/v1/apply", method: .post, body: ByteBuffer(string: f.definition)) { response in
                #expect(response.status == .conflict)
                let p = try decodedProblem(response)
                #expect(p.kind == "conflict" && p.object == "personality web" && p.detail.contains("\(source) → ?, step declared"), "\(p)")
            }
        }
    }

    @Test func anUnreachableLibvirtIsUnavailableNamingTheHostAndItsURI() async throws {
        try await withAPI { f, client in
            // Port 1 on loopback: nothing listens, the connection is refused at once.
            let unreachable = f.definition.replacingOccurrences(of: "uri: test:///default", with: "uri: qemu+tcp://127.0.0.1:1/system")
            try await client.execute(uri: "/v1/plan", method: .post, body: ByteBuffer(string: unreachable)) { response in
                #expect(response.status == .serviceUnavailable)
                let p = try decodedProblem(response)
                #expect(p.kind == "unavailable" && p.object == "host 'local'" && p.field == "hosts[0].uri", "\(p)")
            }
        }
    }
}
