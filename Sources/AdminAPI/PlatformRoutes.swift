import Failover
import Foundation
import Hummingbird
import PlatformEngine
import PlatformModel
import Reconciler

/// Status, processors, personalities, services; plan and apply of a definition sent in the body.
extension AdminAPI {
    func addPlatformRoutes(_ v1: RouterGroup<BasicRequestContext>) {
        v1.get("/status") { _, _ in try JSONBody.response(try await platform.status()) }
        v1.get("/processors") { _, _ in try JSONBody.response(try await platform.status().processors) }
        v1.get("/personalities") { _, _ in try JSONBody.response(PersonalityStatus.all(platform.definition.personalities.map(\.name), in: try await platform.status())) }
        v1.get("/services") { _, _ in try JSONBody.response(try platform.serviceStatus().0) }
        v1.post("/plan") { request, _ in
            let plan = try await definitionEngine(request).plan()
            return try JSONBody.response(plan.changes.map(PlanEntry.init))
        }
        v1.post("/apply") { request, _ in
            let engine = try await definitionEngine(request)
            let plan = try await engine.apply(cause: "apply through the \(actor)")
            let resumed = LineLog()
            try await Administration(engine: try engine.failoverEngine()).resumeDownMoves { resumed.add($0) }
            return try JSONBody.response(AppliedPlan(changes: plan.changes.map(PlanEntry.init), downMoves: resumed.lines))
        }
    }

    /// The platform of the definition in the body (YAML or JSON), on this daemon's state store.
    /// A definition of another platform is refused: its state lives elsewhere.
    func definitionEngine(_ request: Request) async throws -> PlatformEngine {
        var request = request
        let body = try await request.collectBody(upTo: JSONBody.maxBytes)
        let loaded = try PlatformLoader.parse(Data(body.readableBytesView), file: "request body")
        guard loaded.definition.platform == platform.definition.platform else {
            throw APIError(.invalidInput, "field 'platform'",
                           "the definition is of platform '\(loaded.definition.platform)'; this daemon serves '\(platform.definition.platform)'")
        }
        return try PlatformEngine(loaded: loaded, store: store)
    }
}
