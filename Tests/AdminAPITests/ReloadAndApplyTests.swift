import AdminAPI
import Failover
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PlatformEngine
import PlatformModel
import Reconciler
import Testing

/// `POST /v1/reload` does what SIGHUP does, and a definition applied through the API is the one
/// the daemon (the API and the failover service) acts on from then on.
@Suite struct ReloadAndApplyTests {
    /// The fixture's platform under a failover service that reads the fixture's definition file
    /// (not run: its watchers are not what these tests are about).
    func withDaemon(_ body: @escaping @Sendable (APIFixture, FailoverService, String, any TestClientProtocol) async throws -> Void) async throws {
        let f = try await APIFixture()
        let file = f.directory + "/platform.yaml"
        let service = FailoverService(engine: try f.platform.failoverEngine(), logger: Logger(label: "test"), definitionFile: file)
        let api = AdminAPI(platform: f.platform, service: service)
        do {
            try await Application(router: api.router()).test(.router) { client in try await body(f, service, file, client) }
        } catch {
            await f.tearDown()
            throw error
        }
        await f.tearDown()
    }

    func decode<T: Decodable>(_ type: T.Type, _ response: TestResponse) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(T.self, from: Data(response.body.readableBytesView))
    }

    func withFourth(_ f: APIFixture) -> String {
        f.definition.replacingOccurrences(of: "    - { name: \(f.name)-p3, host: local }\n",
                                          with: "    - { name: \(f.name)-p3, host: local }\n    - { name: \(f.name)-p4, host: local }\n")
    }

    func processors(_ client: any TestClientProtocol) async throws -> [String] {
        try await client.execute(uri: "/v1/processors", method: .get) { try decode([PlatformStatus.Processor].self, $0).map(\.name) }
    }

    @Test func reloadPutsTheFileInForceAndABadFileChangesNothing() async throws {
        try await withDaemon { f, service, file, client in
            try await client.execute(uri: "/v1/reload", method: .post) { response in
                #expect(response.status == .ok)
                let change = try decode(DefinitionChange.self, response)
                #expect(change.isEmpty, "the file is the definition in force")
            }
            try withFourth(f).write(toFile: file, atomically: true, encoding: .utf8)
            try await client.execute(uri: "/v1/reload", method: .post) { response in
                #expect(response.status == .ok)
                let change = try decode(DefinitionChange.self, response)
                #expect(change.processorsAdded == ["\(f.name)-p4"])
            }
            #expect(service.engine.definition.processors.members.map(\.name).contains("\(f.name)-p4"), "the failover service follows")
            #expect(try await processors(client).contains("\(f.name)-p4"), "and so does the API")

            try f.definition.replacingOccurrences(of: "id: 100", with: "id: 5000").write(toFile: file, atomically: true, encoding: .utf8)
            try await client.execute(uri: "/v1/reload", method: .post) { response in
                #expect(response.status == .unprocessableContent)
                let problem = try decode(ProblemDetails.self, response)
                #expect(problem.issues?.contains { $0.file == file && $0.field == "vlans[0].id" } == true, "the file and the field")
            }
            #expect(service.engine.definition.processors.members.count == 4, "the definition in force stays")
            #expect(try await processors(client).contains("\(f.name)-p4"))
        }
    }

    @Test func reloadWithoutADefinitionFileIsAConflict() async throws {
        let f = try await APIFixture()
        try await Application(router: f.api.router()).test(.router) { client in
            try await client.execute(uri: "/v1/reload", method: .post) { response in
                #expect(response.status == .conflict)
                #expect(String(buffer: response.body).contains("nothing to read again"))
            }
        }
        await f.tearDown()
    }

    @Test func aDefinitionAppliedThroughTheAPIIsTheDaemons() async throws {
        try await withDaemon { f, service, file, client in
            let p4 = "\(f.name)-p4"
            try await client.execute(uri: "/v1/apply", method: .post, body: ByteBuffer(string: withFourth(f))) { response in
                #expect(response.status == .ok)
            }
            // The daemon's file is the applied definition: a reload keeps p4 instead of undoing the apply.
            #expect(try String(contentsOfFile: file, encoding: .utf8) == withFourth(f))
            try await client.execute(uri: "/v1/reload", method: .post) { response in
                #expect(response.status == .ok)
                let change = try decode(DefinitionChange.self, response)
                #expect(change.isEmpty, "\(String(buffer: response.body))")
            }
            #expect(service.engine.definition.processors.members.map(\.name).contains(p4), "the failover service watches p4")
            #expect(try await processors(client).contains(p4))
            try await client.execute(uri: "/v1/fence", method: .post, body: ByteBuffer(string: #"{"processor": "\#(p4)", "confirm": true}"#)) { response in
                #expect(response.status == .ok, "p4 is a processor of the platform now: \(String(buffer: response.body))")
            }
        }
    }

    @Test func anApplyTheRunningServiceCannotTakeChangesNothing() async throws {
        try await withDaemon { f, service, _, client in
            let carrier = try #require(try f.platform.store.bindings()["web"])
            let without = f.definition.replacingOccurrences(of: "    - { name: \(carrier), host: local }\n", with: "")
            try await client.execute(uri: "/v1/apply", method: .post, body: ByteBuffer(string: without)) { response in
                #expect(response.status == .unprocessableContent)
                let problem = try decode(ProblemDetails.self, response)
                #expect(problem.issues?.contains { $0.field == "processors.members" && $0.message.contains(carrier) } == true)
            }
            try await client.execute(uri: "/v1/plan", method: .post, body: ByteBuffer(string: f.definition)) { response in
                let plan = try decode([PlanEntry].self, response)
                #expect(plan.isEmpty, "libvirt still has the carrier")
            }
            #expect(service.engine.definition.processors.members.map(\.name).contains(carrier))
        }
    }
}
