import SystemSupport
/// Which bindings and moves the processors allow, checked by every store inside the transaction
/// that saves them, so that two engines (or a detection and `vpctl failover`) cannot both win.
enum MoveRules {
    /// A detection of a personality or a processor already in an unfinished move is not a new
    /// move: the source of `record` is the source or the target of one, or its personality moves.
    static func isUnderWay(_ record: FailoverRecord, among unfinished: [FailoverRecord]) -> Bool {
        unfinished.contains { $0.personality == record.personality || $0.source == record.source || $0.target == record.source }
    }

    /// A processor may take `record`'s personality only if it is not the source or the target of
    /// another unfinished move (both are reserved until the move ends), carries no other
    /// personality (`carrying`: the one bound to it), and is not failed (`state`).
    static func checkFree(_ target: String, for record: FailoverRecord, among unfinished: [FailoverRecord],
                          carrying: String?, state: ProcessorState?) throws {
        guard target != record.source else {
            throw MoveRefused(processor: target, cause: "it is the processor \(record.personality) leaves")
        }
        if let move = unfinished.first(where: { $0.id != record.id && ($0.source == target || $0.target == target) }) {
            let role = move.source == target ? "source" : "target"
            throw MoveRefused(processor: target,
                              cause: "it is the \(role) of the unfinished move of \(move.personality) (step \(move.step.rawValue))")
        }
        if let other = carrying, other != record.personality {
            throw MoveRefused(processor: target, cause: "it carries personality '\(other)'")
        }
        if let state, state.state == .failed {
            throw MoveRefused(processor: target, cause: "it is failed (\(state.reason)); repair it first (vpctl repair \(target))")
        }
    }

    /// A processor carries one personality at most (the SQLite store's binding table has a unique
    /// processor column too; this names the personalities instead of the constraint).
    static func checkOnePersonalityEach(_ bindings: [String: String]) throws {
        let byProcessor = Dictionary(grouping: bindings.keys.sorted(), by: { bindings[$0]! })
        if let (processor, personalities) = byProcessor.sorted(by: { $0.key < $1.key }).first(where: { $0.value.count > 1 }) {
            throw PlatformError(.conflict, "processor '\(processor)'", "cannot carry both \(personalities.joined(separator: " and ")): "
                + "a processor carries one personality at most; nothing was changed")
        }
    }

    /// Rebinding never takes another personality's processor.
    static func checkRebind(_ record: FailoverRecord, to target: String, carrying: String?) throws {
        if let other = carrying, other != record.personality {
            throw MoveRefused(processor: target, cause: "it carries personality '\(other)'; \(record.personality) is not bound to it")
        }
    }
}
