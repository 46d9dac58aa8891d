import Foundation
import Hosts
import StateStore
import SystemSupport

/// What an administrator asks of failover by hand: a planned move, a fence, a repair.
/// The same engine and the same guards as automatic failover.
public struct Administration: Sendable {
    public let engine: FailoverEngine
    public init(engine: FailoverEngine) { self.engine = engine }
    private var store: any PlatformStore { engine.store }

    /// Moves `personality` off its processor (to `target`, or a standby chosen as for a failure)
    /// and waits until it answers there. Returns the finished record.
    public func move(_ personality: String, to target: String?, progress: @Sendable (String) -> Void) async throws -> FailoverRecord {
        let view = try PlatformView(definition: engine.definition, store: store)
        guard view.devices[personality] != nil else {
            throw PlatformError(.notFound, "personality '\(personality)'",
                                "not in the platform definition (known: \(view.devices.keys.sorted().joined(separator: ", ")))")
        }
        guard let source = view.bindings[personality], let sourceHost = view.hostOf[source] else {
            throw PlatformError(.conflict, "personality '\(personality)'", "not on any processor; run vpctl apply first")
        }
        if let target {
            guard view.hostOf[target] != nil else { throw PlatformError(.notFound, "processor '\(target)'", "not in the platform definition") }
            guard target != source else { throw PlatformError(.conflict, "personality '\(personality)'", "already on \(target)") }
            // Whether the target is free (not reserved by a move, carrying nothing, not failed) is
            // checked by the declaration itself, in the same transaction.
        }
        let record = FailoverRecord(personality: personality, source: source, sourceHost: sourceHost, target: target,
                                    planned: true, reason: "planned move by administrator", detectedAt: Date())
        guard let declared = try store.declare(record, event: PlatformEvent(kind: .step, processor: source, personality: personality,
                                                                           detail: "declared: planned move of \(personality) off \(source)")),
              let id = declared.id else {
            throw PlatformError(.conflict, "personality '\(personality)'", "it or processor '\(source)' is already being moved; see vpctl events")
        }
        // New service connections go elsewhere from now on; established ones drain before the stop.
        engine.syncServices()
        return try await follow(id, progress: progress)
    }

    /// `vpctl failover --abort`: records the request (it survives a killed vpctl; `vpctl serve`
    /// carries it out too), then advances the move until the abort has been carried out. Returns
    /// the record as it then stands: `aborted`, or on its way to another standby (or `down`)
    /// when the source was already fenced.
    public func abort(_ personality: String, who: String, progress: @Sendable (String) -> Void) async throws -> FailoverRecord {
        let requested = try store.requestAbort(personality: personality, by: who)
        guard let id = requested.id else { throw PlatformError(.internal, "the move of \(personality)", "it has no id") }
        progress("\(personality): abort asked at \(requested.step.rawValue)")
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            _ = try await engine.advance(id)
            guard let record = try store.failover(id: id) else { throw PlatformError(.internal, "move #\(id)", "vanished from the store") }
            if record.abortRequestedBy == nil || record.step.isFinished {
                progress("\(personality): \(record.step.rawValue)")
                return record
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw PlatformError(.unavailable, "the move of \(personality)",
                            "its abort is recorded but not carried out within 60 s; vpctl serve carries it out (vpctl events)")
    }

    /// Runs move `id` to its end, reporting each step.
    public func follow(_ id: Int64, progress: @Sendable (String) -> Void) async throws -> FailoverRecord {
        var last: FailoverStep?
        var lastWait = ""
        while true {
            let result = try await engine.advance(id)
            guard let record = try store.failover(id: id) else { throw PlatformError(.internal, "move #\(id)", "vanished from the store") }
            if record.step != last { progress("\(record.personality): \(record.step.rawValue)"); last = record.step }
            switch result {
            case .finished: return record
            case .advanced: continue
            case .waiting(let why):
                if record.step == .down || record.step == .awaitingFence {
                    throw PlatformError(.conflict, "the move of \(record.personality)", "\(why); the move stays recorded and resumes under vpctl serve")
                }
                if why != lastWait { progress("\(record.personality): \(why)"); lastWait = why }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// After an apply: moves that were down (no standby) go on with this engine's definition,
    /// which may have added the processor they need. Says how each ended through `progress`.
    /// (A `vpctl serve` started before the apply does not know processors added since.)
    public func resumeDownMoves(progress: @escaping @Sendable (String) -> Void) async throws {
        let down = try store.unfinishedFailovers().filter { $0.step == .down }
        for move in down {
            guard let id = move.id else { continue }
            do {
                let record = try await follow(id, progress: progress)
                progress("\(record.personality) moved to \(record.target ?? "?")")
            } catch {
                progress("\(move.personality) is still not moved: \(error)")
            }
        }
    }

    /// Stops `processor` through libvirt and confirms it is off; with `confirm`, records that
    /// an administrator vouches it is off (when libvirt cannot tell). A processor that carried a
    /// personality is marked failed and its personality is moved by `vpctl serve`.
    public func fence(_ processor: String, confirm: Bool, who: String) async throws -> String {
        let view = try PlatformView(definition: engine.definition, store: store)
        guard let host = view.hostOf[processor] else { throw PlatformError(.notFound, "processor '\(processor)'", "not in the platform definition") }
        if confirm {
            let unblocked = try store.confirmFence(processor: processor, by: who)
            return unblocked.isEmpty ? "recorded: \(who) vouches that \(processor) is off (no move was waiting for it)"
                : "recorded: \(who) vouches that \(processor) is off; the move of \(unblocked.map(\.personality).joined(separator: ", ")) continues"
        }
        switch try await engine.hosts.host(host).fence(processor, planned: false) {
        case .unconfirmed(let why):
            throw PlatformError(.unavailable, "processor '\(processor)'",
                                "could not be confirmed off: \(why). If you know it is off, run: vpctl fence \(processor) --confirm")
        case .off(let how):
            if let personality = view.personality(on: processor) {
                _ = try store.declare(FailoverRecord(personality: personality, source: processor, sourceHost: host, planned: false,
                                                     reason: "fenced by \(who)", detectedAt: Date()),
                                      event: PlatformEvent(kind: .detection, processor: processor, personality: personality,
                                                           detail: "\(processor) fenced by \(who) (\(how)); \(personality) will move"))
                return "\(processor) is off (\(how)) and failed; vpctl serve moves \(personality) to a standby"
            }
            if !view.failed.contains(processor) { try store.markFailed(processor, reason: "fenced by \(who)") }
            try store.record(PlatformEvent(kind: .step, processor: processor, detail: "\(processor) fenced by \(who) (\(how))"))
            return "\(processor) is off (\(how)) and marked failed; vpctl repair \(processor) returns it to the pool"
        }
    }

    /// Returns a failed processor to the standby pool, clean: no personality's NICs or disks,
    /// started if standbys are hot (and fewer than wanted run), off if they are cold.
    public func repair(_ processor: String, who: String) async throws -> String {
        try await store.exclusively {
            let view = try PlatformView(definition: engine.definition, store: store)
            guard let host = view.hostOf[processor] else { throw PlatformError(.notFound, "processor '\(processor)'", "not in the platform definition") }
            if let move = try store.unfinishedFailovers().first(where: { $0.source == processor || $0.target == processor }) {
                throw PlatformError(.conflict, "processor '\(processor)'",
                                    "part of the unfinished move of \(move.personality) (step \(move.step.rawValue)); nothing was changed")
            }
            if let personality = view.personality(on: processor) {
                throw PlatformError(.conflict, "processor '\(processor)'",
                                    "carries personality '\(personality)'; only a spare or failed processor can be repaired")
            }
            let libvirt = try engine.hosts.host(host)
            guard let state = try await libvirt.state(of: processor) else {
                throw PlatformError(.notFound, "processor '\(processor)'", "not defined on host \(host); run vpctl apply first")
            }
            // Anything of a personality still in its definition goes: it must come back clean.
            let config = try await libvirt.devices(of: processor, .config)
            var running = state.isActive
            if (!config.nics.isEmpty || !config.disks.isEmpty) && running { try await libvirt.destroy(processor); running = false }
            try await engine.executor.clean(processor, on: libvirt)
            var runningSpares = 0
            for name in view.processors where name != processor && view.personality(on: name) == nil && !view.failed.contains(name) {
                if let spareHost = view.hostOf[name], (try? await engine.hosts.host(spareHost).state(of: name))??.isActive == true {
                    runningSpares += 1
                }
            }
            let hot = view.hotStandbys && runningSpares < (view.hotStandbyCount ?? Int.max)
            if hot, !running { try await libvirt.start(processor) }
            if !hot, running { try await libvirt.destroy(processor) }
            let role = hot ? "hot standby" : "cold standby"
            try store.clearFailed(processor, event: PlatformEvent(kind: .repair, processor: processor,
                                                                  detail: "\(processor) repaired by \(who): \(role), no personality"))
            return "\(processor) is a \(role) again"
        }
    }
}
