import AdminAPI
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import Yams

/// openapi.yaml, as checked in, is what the API serves: every operation in it answers, every
/// route served is in it, and /openapi.yaml is that file.
@Suite struct DocumentCoverageTests {
    /// The checked-in document, parsed (YAML → a dictionary), not searched as text.
    static let checkedIn: (text: String, operations: [String]) = {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/AdminAPI/openapi.yaml").standardized.path
        let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        let document = (try? Yams.load(yaml: text)) as? [String: Any] ?? [:]
        let paths = document["paths"] as? [String: [String: Any]] ?? [:]
        let methods: Set<String> = ["get", "put", "post", "delete", "patch", "head", "options", "trace"]
        let operations = paths.flatMap { path, item in item.keys.filter(methods.contains).map { "\($0.uppercased()) \(path)" } }
        return (text, operations.sorted())
    }()

    @Test func everyOperationOfTheDocumentIsServedAndNothingElse() async throws {
        let f = try await APIFixture()
        defer { Task { await f.tearDown() } }
        let operations = Self.checkedIn.operations
        #expect(operations.contains("GET /v1/status") && operations.contains("POST /v1/reload"), "the document was read: \(operations)")
        #expect(f.api.servedRoutes().sorted() == operations)

        // And each one answers for real: anything but the router's "no such route".
        try await Application(router: f.api.router()).test(.router) { client in
            for operation in operations {
                let parts = operation.split(separator: " ", maxSplits: 1)
                let method = HTTPRequest.Method(String(parts[0]))!
                let uri = parts[1].replacingOccurrences(of: "{id}", with: "1")
                try await client.execute(uri: uri, method: method, body: method == .post ? ByteBuffer(string: "{}") : nil) { response in
                    let body = String(buffer: response.body)
                    #expect(!(response.status == .notFound && body.contains("no such route")), "\(operation): \(response.status) \(body)")
                }
            }
        }
    }

    @Test func openapiYAMLIsTheCheckedInDocument() async throws {
        let f = try await APIFixture()
        defer { Task { await f.tearDown() } }
        try await Application(router: f.api.router()).test(.router) { client in
            try await client.execute(uri: "/openapi.yaml", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/yaml")
                #expect(!Self.checkedIn.text.isEmpty && String(buffer: response.body) == Self.checkedIn.text)
            }
        }
    }
}
