import Failover
import Foundation
import Hummingbird
import OpenAPIRuntime
import PlatformEngine
import PlatformModel
import Reconciler

/// Status, processors, personalities, services; plan and apply of a definition sent in the body;
/// reload of the definition file.
extension AdminAPI {
    func getStatus(_ input: Operations.GetStatus.Input) async throws -> Operations.GetStatus.Output {
        .ok(.init(body: .json(Payload(try await platform.status()))))
    }

    func listProcessors(_ input: Operations.ListProcessors.Input) async throws -> Operations.ListProcessors.Output {
        .ok(.init(body: .json(try await platform.status().processors.map(Payload.init))))
    }

    func listPersonalities(_ input: Operations.ListPersonalities.Input) async throws -> Operations.ListPersonalities.Output {
        let platform = self.platform
        let all = PersonalityStatus.all(platform.definition.personalities.map(\.name), in: try await platform.status())
        return .ok(.init(body: .json(all.map(Payload.init))))
    }

    func listServices(_ input: Operations.ListServices.Input) async throws -> Operations.ListServices.Output {
        .ok(.init(body: .json(try platform.serviceStatus().0.map(Payload.init))))
    }

    func plan(_ input: Operations.Plan.Input) async throws -> Operations.Plan.Output {
        let plan = try await definitionEngine().plan()
        return .ok(.init(body: .json(plan.changes.map { Payload(PlanEntry($0)) })))
    }

    /// As `vpctl apply`, then the applied definition is the daemon's: the API and the failover
    /// service act on it from now on (until the next reload of the file).
    func apply(_ input: Operations.Apply.Input) async throws -> Operations.Apply.Output {
        let engine = try await definitionEngine()
        // What the running service could not take is refused before libvirt changes.
        try inForce.check(engine.loaded)
        let plan = try await engine.apply(cause: "apply through the \(actor)")
        try inForce.adopt(engine, text: String(buffer: RequestBody.raw ?? ByteBuffer()))
        let resumed = LineLog()
        try await Administration(engine: failover).resumeDownMoves { resumed.add($0) }
        return .ok(.init(body: .json(Payload(AppliedPlan(changes: plan.changes.map(PlanEntry.init), downMoves: resumed.lines)))))
    }

    func reload(_ input: Operations.Reload.Input) async throws -> Operations.Reload.Output {
        .ok(.init(body: .json(Payload(try inForce.reload()))))
    }

    /// The platform of the definition in the body (YAML or JSON, as sent), on this daemon's state
    /// store. A definition of another platform is refused: its state lives elsewhere.
    func definitionEngine() async throws -> PlatformEngine {
        let body = RequestBody.raw ?? ByteBuffer()
        let loaded = try PlatformLoader.parse(Data(body.readableBytesView), file: "request body")
        let running = platform
        guard loaded.definition.platform == running.definition.platform else {
            throw APIError(.invalidInput, "field 'platform'",
                           "the definition is of platform '\(loaded.definition.platform)'; this daemon serves '\(running.definition.platform)'")
        }
        return try PlatformEngine(loaded: loaded, store: store)
    }
}
