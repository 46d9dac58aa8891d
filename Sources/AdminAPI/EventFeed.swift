import Foundation
import ServiceLifecycle
import StateStore
import Synchronization

/// The store's events for every follower of `GET /v1/events`: one reader looks for new events
/// every `poll` while anyone follows, encodes each once as a Server-Sent Event, keeps the last
/// `keep` of them and wakes the followers; a follower behind what is kept (one that resumes from
/// an old id) reads its way up from the store itself. So ten followers cost one store read per
/// poll, not ten, and an event is encoded once, not once per follower. The store orders events
/// (ids grow, never reused), and every follower gets them in that order, each once.
final class EventFeed: Sendable {
    let store: any PlatformStore
    let poll: Duration
    let keep: Int

    init(store: any PlatformStore, poll: Duration, keep: Int = 10_000) {
        self.store = store
        self.poll = poll
        self.keep = keep
    }

    /// The events after `id` as Server-Sent Events, with the last one's id; waits up to `wait`
    /// for one. nil when none came by then, or when the task is cancelled or the daemon shuts down.
    func events(after id: Int64, within wait: Duration) async throws -> (text: [UInt8], last: Int64)? {
        let deadline = ContinuousClock.now + wait
        while true {
            switch state.withLock({ $0.lookup(after: id) }) {
            case .found(let text, let last): return (text, last)
            case .behind:
                let page = try store.events(after: id, limit: 1000)
                if let last = page.last?.id { return (try page.flatMap(Self.encode), last) }
            case .nothing: break
            }
            if Task.isCancelled || Task.isShuttingDownGracefully || ContinuousClock.now >= deadline { return nil }
            try await waitForNews(after: id, until: deadline)
        }
    }

    static func encode(_ event: PlatformEvent) throws -> [UInt8] { Array(try ServerSentEvent(event).text.utf8) }

    // MARK: What is kept

    private struct Kept: Sendable {
        let id: Int64
        let text: [UInt8]
    }

    private struct Waiter: Sendable {
        let continuation: CheckedContinuation<Void, any Error>
        let deadline: ContinuousClock.Instant
    }

    private enum Lookup: Sendable { case found([UInt8], last: Int64), behind, nothing }

    private struct State {
        /// Every event after `floor` up to `newest`, oldest first; unknown until the reader first read.
        var recent: [Kept] = []
        var floor: Int64?
        var newest: Int64 = 0
        var waiters: [UInt64: Waiter] = [:]
        var lastToken: UInt64 = 0
        var reading = false

        func lookup(after id: Int64) -> Lookup {
            guard let floor else { return .nothing }
            if id < floor { return .behind }
            guard id < newest else { return .nothing }
            // The first kept event after `id`: ids grow along `recent`.
            var low = 0, high = recent.count
            while low < high {
                let mid = (low + high) / 2
                if recent[mid].id <= id { low = mid + 1 } else { high = mid }
            }
            var text: [UInt8] = []
            for kept in recent[low...] { text += kept.text }
            return .found(text, last: newest)
        }

        /// Adds events read after `newest`, dropping the oldest beyond `keep`.
        mutating func append(_ events: [Kept], keep: Int) {
            guard let last = events.last else { return }
            recent += events
            newest = last.id
            if recent.count > keep {
                floor = recent[recent.count - keep - 1].id
                recent.removeFirst(recent.count - keep)
            }
        }

        /// The waiters to wake: all of them after news, else those whose wait is over.
        mutating func wake(news: Bool, now: ContinuousClock.Instant) -> [Waiter] {
            let due = waiters.filter { news || $0.value.deadline <= now }
            for token in due.keys { waiters[token] = nil }
            return Array(due.values)
        }
    }

    private let state = Mutex(State())

    // MARK: Waiting

    /// Until the reader has news, the wait is over, or the task is cancelled or told to shut down.
    private func waitForNews(after id: Int64, until deadline: ContinuousClock.Instant) async throws {
        let token = state.withLock { s -> UInt64 in
            s.lastToken += 1
            return s.lastToken
        }
        try await withGracefulShutdownHandler {
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let startReader = state.withLock { s -> Bool in
                        // News since the caller looked, or already told to stop: no wait.
                        if (s.floor != nil && s.newest > id) || Task.isCancelled || Task.isShuttingDownGracefully {
                            continuation.resume()
                            return false
                        }
                        s.waiters[token] = Waiter(continuation: continuation, deadline: deadline)
                        defer { s.reading = true }
                        return !s.reading
                    }
                    if startReader { Task.detached { await self.read() } }
                }
            } onCancel: {
                self.stopWaiting(token)
            }
        } onGracefulShutdown: {
            self.stopWaiting(token)
        }
    }

    private func stopWaiting(_ token: UInt64) {
        state.withLock { $0.waiters.removeValue(forKey: token) }?.continuation.resume()
    }

    /// The one reader: while anyone waits, every `poll` reads what is new, keeps it and wakes the
    /// waiters. A store that cannot be read ends every waiting stream with its error.
    private func read() async {
        while true {
            try? await Task.sleep(for: poll)
            let from = state.withLock { s -> Int64?? in
                guard !s.waiters.isEmpty else {
                    s.reading = false
                    return nil
                }
                return .some(s.floor == nil ? nil : s.newest)
            }
            guard let from else { return }
            let woken: [Waiter]
            do {
                if let from {
                    var fresh: [Kept] = []
                    var after = from
                    while true {
                        let page = try store.events(after: after, limit: 1000)
                        for event in page { fresh.append(Kept(id: event.id ?? after, text: try Self.encode(event))) }
                        guard let last = page.last?.id, page.count == 1000 else { break }
                        after = last
                    }
                    woken = state.withLock { s in
                        s.append(fresh, keep: keep)
                        return s.wake(news: !fresh.isEmpty, now: .now)
                    }
                } else {
                    // The first read: from the newest event on; a follower before it reads the store.
                    let newest = try store.events(limit: 1).last?.id ?? 0
                    woken = state.withLock { s in
                        s.floor = newest
                        s.newest = newest
                        return s.wake(news: true, now: .now)
                    }
                }
            } catch {
                let all = state.withLock { s in
                    s.reading = false
                    return s.wake(news: true, now: .now)
                }
                for waiter in all { waiter.continuation.resume(throwing: error) }
                return
            }
            for waiter in woken { waiter.continuation.resume() }
        }
    }
}
