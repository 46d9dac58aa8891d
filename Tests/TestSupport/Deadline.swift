/// Waits in tests end with a failure, never a hang: every `for await` and every wait for a
/// condition has a deadline.
public struct DeadlineExceeded: Error, CustomStringConvertible {
    public let description: String
    public init(_ what: String, _ limit: Duration) { description = "\(what): not done within \(limit)" }
}

/// The elements of `sequence` up to and including the first for which `stop` is true (or until the
/// sequence ends). Throws `DeadlineExceeded` when `limit` passes first.
public func collect<S: AsyncSequence & Sendable>(
    _ sequence: S, within limit: Duration, _ what: String,
    until stop: @escaping @Sendable (S.Element) -> Bool = { _ in false }
) async throws -> [S.Element] where S.Element: Sendable {
    try await withThrowingTaskGroup(of: [S.Element]?.self) { group in
        group.addTask {
            var seen: [S.Element] = []
            for try await element in sequence {
                seen.append(element)
                if stop(element) { break }
            }
            return seen
        }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard case let seen?? = try await group.next() else { throw DeadlineExceeded(what, limit) }
        return seen
    }
}

/// Polls `condition` every `step` until it holds; throws `DeadlineExceeded` after `limit`.
public func waitUntil(_ what: String, within limit: Duration, every step: Duration = .milliseconds(50),
                      _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: step)
    }
    if try await condition() { return }
    throw DeadlineExceeded(what, limit)
}
