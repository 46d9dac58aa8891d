/// What one follower of the event stream received, and what was wrong with it: every event id
/// must be the one after the last (strictly increasing, no gaps), and the writer's events must
/// come each once, in the order written. Pure, so it is tested apart from the daemon.
struct EventFollowerLedger {
    /// Every id received, in order.
    private(set) var ids: [Int64] = []
    /// The writer's sequence numbers, in the order received.
    private(set) var sequences: [Int] = []
    private(set) var problems: [String] = []

    var lastID: Int64? { ids.last }

    mutating func received(id: Int64, sequence: Int?) {
        if let last = ids.last, id != last + 1 {
            note(id <= last ? "event \(id) after \(last): not in order (or again)" : "events \(last + 1)…\(id - 1) missing (\(id) came after \(last))")
        }
        ids.append(id)
        guard let sequence else { return }
        if let previous = sequences.last, sequence != previous + 1 {
            note("writer's event #\(sequence) after #\(previous)")
        }
        sequences.append(sequence)
    }

    /// After the run: the writer's `written` events must all have come, from the first on.
    func verdict(written: Int) -> [String] {
        var all = problems
        if sequences.first.map({ $0 != 0 }) ?? (written > 0) { all.append("the writer's first event (#0) never came; first was #\(sequences.first.map(String.init) ?? "none")") }
        if sequences.count != written { all.append("received \(sequences.count) of the writer's \(written) events") }
        return all
    }

    /// The first few, so that one fault does not bury the report.
    private mutating func note(_ problem: String) {
        if problems.count < 20 { problems.append(problem) }
    }
}
