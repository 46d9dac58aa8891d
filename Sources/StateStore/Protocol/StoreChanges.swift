import Synchronization

/// Says that this process committed a change to the store, so that a reader waiting for one (the
/// failover service's move loop) wakes at once instead of reading the store every few
/// milliseconds to find out. Changes made by other processes are not signalled: such a reader
/// still looks on its own now and then (`wait(upTo:)`'s limit).
///
/// Coalescing: any number of signals before a wait wake it once.
public final class StoreChanges: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }
    private let state = Mutex(State())

    public init() {}

    public func signal() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard let waiter = s.waiter else { s.pending = true; return nil }
            s.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns once a change was signalled since the last return, or after `limit`, or when the
    /// task is cancelled. For one waiter at a time.
    public func wait(upTo limit: Duration) async {
        if state.withLock({ s in defer { s.pending = false }; return s.pending }) { return }
        let timer = Task { [self] in
            try? await Task.sleep(for: limit)
            signal()
        }
        defer { timer.cancel() }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    if s.pending { s.pending = false; return true }
                    s.waiter = c
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            signal()
        }
    }
}
