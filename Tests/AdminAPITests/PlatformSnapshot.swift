import Foundation
import PlatformEngine
import StateStore

/// What a refused request must leave as it was: bindings, processor states, moves, the journal's
/// events, and the processors as `GET /v1/status` reports them (libvirt's side).
struct PlatformSnapshot: Equatable {
    var bindings: [String: String]
    var processorStates: [String: ProcessorState]
    var moves: [FailoverRecord]
    var lastEvent: Int64?
    var processors: [String]

    init(_ platform: PlatformEngine) async throws {
        let store = platform.store
        bindings = try store.bindings()
        processorStates = try store.processorStates()
        moves = try store.failovers(last: 100)
        lastEvent = try store.events(after: nil, limit: 10_000).last?.id
        processors = try await platform.status().processors.map { "\($0.name) \($0.state) \($0.role) \($0.personality ?? "-")" }
    }
}
