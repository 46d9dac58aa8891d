import AdminProtocol
import Failover
import Hummingbird
import StateStore

/// Moves (list, one, abort), planned failover, fence, repair: through `Administration`, as the
/// `vpctl failover`, `fence` and `repair` commands.
extension AdminAPI {
    func addFailoverRoutes(_ v1: RouterGroup<BasicRequestContext>) {
        v1.get("/moves") { request, _ in
            let limit = try request.uri.queryParameters.integer("limit", default: 50, in: 1...1000)
            return try JSONBody.response(try store.failovers(last: limit))
        }
        v1.get("/moves/{id}") { _, context in try JSONBody.response(try move(context)) }
        v1.post("/moves/{id}/abort") { _, context in
            let record = try move(context)
            guard !record.step.isFinished else {
                throw APIError(.conflict, "move \(record.id ?? 0)", "already finished (step \(record.step.rawValue)): nothing to abort")
            }
            return try JSONBody.response(try await administration.abort(record.personality, who: actor) { _ in })
        }
        v1.post("/failover") { request, _ in
            let body = try await JSONBody.decode(FailoverRequest.self, from: request)
            try requirePersonality(body.personality)
            if let target = body.to { try requireProcessor(target) }
            return try JSONBody.response(try await administration.move(body.personality, to: body.to) { _ in })
        }
        v1.post("/fence") { request, _ in
            let body = try await JSONBody.decode(FenceRequest.self, from: request)
            try requireProcessor(body.processor)
            return try JSONBody.response(Outcome(message: try await administration.fence(body.processor, confirm: body.confirm ?? false, who: actor)))
        }
        v1.post("/repair") { request, _ in
            let body = try await JSONBody.decode(RepairRequest.self, from: request)
            try requireProcessor(body.processor)
            return try JSONBody.response(Outcome(message: try await administration.repair(body.processor, who: actor)))
        }
    }

    /// The move named by the path's `{id}`.
    func move(_ context: BasicRequestContext) throws -> FailoverRecord {
        let raw = context.parameters.get("id") ?? ""
        guard let id = Int64(raw) else { throw APIError(.invalidRequest, "move id '\(raw)'", "not a number") }
        guard let record = try store.failover(id: id) else { throw APIError(.notFound, "move \(id)", "no such move") }
        return record
    }

    /// An unknown name is a 404 here; what Administration refuses about a known one is a conflict.
    func requirePersonality(_ name: String) throws {
        let known = platform.definition.personalities.map(\.name)
        guard known.contains(name) else {
            throw APIError(.notFound, "personality '\(name)'", "not in the platform definition (known: \(known.joined(separator: ", ")))")
        }
    }

    func requireProcessor(_ name: String) throws {
        let known = platform.definition.processors.members.map(\.name)
        guard known.contains(name) else {
            throw APIError(.notFound, "processor '\(name)'", "not in the platform definition (known: \(known.joined(separator: ", ")))")
        }
    }
}

// The bodies are AdminProtocol's (shared with the client); the fields each may have:
extension FailoverRequest: KnownFields { static let fields: Set<String> = ["personality", "to"] }
extension FenceRequest: KnownFields { static let fields: Set<String> = ["processor", "confirm"] }
extension RepairRequest: KnownFields { static let fields: Set<String> = ["processor"] }
