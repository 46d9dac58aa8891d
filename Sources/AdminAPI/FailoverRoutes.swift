import AdminProtocol
import Failover
import OpenAPIRuntime
import StateStore

/// Moves (list, one, abort), planned failover, fence, repair: through `Administration`, as the
/// `vpctl failover`, `fence` and `repair` commands.
extension AdminAPI {
    func listMoves(_ input: Operations.ListMoves.Input) async throws -> Operations.ListMoves.Output {
        .ok(.init(body: .json(try store.failovers(last: input.query.limit ?? 50).map(Payload.init))))
    }

    func getMove(_ input: Operations.GetMove.Input) async throws -> Operations.GetMove.Output {
        .ok(.init(body: .json(Payload(try move(input.path.id)))))
    }

    func abortMove(_ input: Operations.AbortMove.Input) async throws -> Operations.AbortMove.Output {
        let record = try move(input.path.id)
        guard !record.step.isFinished else {
            throw APIError(.conflict, "move \(record.id ?? 0)", "already finished (step \(record.step.rawValue)): nothing to abort")
        }
        return .ok(.init(body: .json(Payload(try await administration.abort(record.personality, who: actor) { _ in }))))
    }

    func failover(_ input: Operations.Failover.Input) async throws -> Operations.Failover.Output {
        let body = switch input.body { case .json(let body): body }
        try requirePersonality(body.personality)
        if let target = body.to { try requireProcessor(target) }
        return .ok(.init(body: .json(Payload(try await administration.move(body.personality, to: body.to) { _ in }))))
    }

    func fence(_ input: Operations.Fence.Input) async throws -> Operations.Fence.Output {
        let body = switch input.body { case .json(let body): body }
        try requireProcessor(body.processor)
        let message = try await administration.fence(body.processor, confirm: body.confirm ?? false, who: actor)
        return .ok(.init(body: .json(Payload(Outcome(message: message)))))
    }

    func repair(_ input: Operations.Repair.Input) async throws -> Operations.Repair.Output {
        let body = switch input.body { case .json(let body): body }
        try requireProcessor(body.processor)
        return .ok(.init(body: .json(Payload(Outcome(message: try await administration.repair(body.processor, who: actor))))))
    }

    /// The move of the path's `{id}`.
    func move(_ id: Int64) throws -> FailoverRecord {
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