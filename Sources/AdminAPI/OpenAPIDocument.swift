import Foundation
import Yams

/// openapi.yaml as this module ships it: served at /openapi.yaml, read for the checks the
/// generated server does not make (integer parameters' ranges), and by the tests that hold the
/// routes to it. Only what those need is decoded.
public struct OpenAPIDocument: Sendable {
    public struct Operation: Sendable, Hashable {
        public var method: String
        /// As the document writes it: `/v1/moves/{id}`.
        public var path: String
        public var id: String
        var parameters: [Parameter]
    }

    struct Parameter: Sendable, Hashable {
        var name: String
        /// `path`, `query` or `header`.
        var location: String
        var type: String?
        var minimum: Int64?
        var maximum: Int64?
    }

    public let text: String
    public let operations: [Operation]

    /// The copy built into this module (`embedInCode`: a binary moved away from its build
    /// directory still has it). A broken one is a build fault, found by the first test that
    /// starts the API.
    public static let bundled: OpenAPIDocument = {
        do {
            return try OpenAPIDocument(yaml: String(decoding: PackageResources.openapi_yaml, as: UTF8.self))
        } catch {
            fatalError("the admin API's OpenAPI document: \(error)")
        }
    }()

    public init(yaml: String) throws {
        text = yaml
        let raw = try YAMLDecoder().decode(RawDocument.self, from: yaml)
        let shared = raw.components?.parameters ?? [:]
        func resolve(_ p: RawParameter) throws -> Parameter {
            if let ref = p.ref {
                let name = String(ref.dropFirst("#/components/parameters/".count))
                guard ref.hasPrefix("#/components/parameters/"), let target = shared[name], target.ref == nil else {
                    throw DocumentError(description: "parameter reference '\(ref)' does not name a parameter of components")
                }
                return try resolve(target)
            }
            guard let name = p.name, let location = p.in else { throw DocumentError(description: "a parameter without name or in") }
            return Parameter(name: name, location: location, type: p.schema?.type, minimum: p.schema?.minimum, maximum: p.schema?.maximum)
        }
        operations = try raw.paths.sorted { $0.key < $1.key }.flatMap { path, methods in
            try methods.sorted { $0.key < $1.key }.map { method, operation in
                guard let id = operation.operationId else { throw DocumentError(description: "\(method.uppercased()) \(path) has no operationId") }
                return Operation(method: method.uppercased(), path: path, id: id, parameters: try (operation.parameters ?? []).map(resolve))
            }
        }
    }

    func operation(id: String) -> Operation? { operations.first { $0.id == id } }

    struct DocumentError: Error, CustomStringConvertible { let description: String }
}

private struct RawDocument: Decodable {
    var paths: [String: [String: RawOperation]]
    var components: RawComponents?
}

private struct RawComponents: Decodable {
    var parameters: [String: RawParameter]?
}

private struct RawOperation: Decodable {
    var operationId: String?
    var parameters: [RawParameter]?
}

private struct RawParameter: Decodable {
    var ref: String?
    var name: String?
    var `in`: String?
    var schema: RawSchema?
    enum CodingKeys: String, CodingKey { case ref = "$ref", name, `in`, schema }
}

private struct RawSchema: Decodable {
    var type: String?
    var minimum: Int64?
    var maximum: Int64?
}
