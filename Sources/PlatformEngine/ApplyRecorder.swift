import Reconciler
import StateStore
import Synchronization

/// What an apply records as it goes (a journal line per change, each volume created or deleted),
/// written in batches: one transaction at most every `window`, and one at the end, instead of
/// one per line. Each transaction waits for the disk: a 10,000-processor apply spent seconds in
/// them. A crash loses at most the last window's lines; volumes among them are then left in
/// their pools unrecorded, as a crash between creating a volume and recording it always did.
final class ApplyRecorder: VolumeLedger {
    let store: any PlatformStore
    let window: Duration
    private struct Pending { var writes: [StoreWrite] = []; var since: ContinuousClock.Instant? }
    private let pending = Mutex(Pending())

    init(store: any PlatformStore, window: Duration = .milliseconds(100)) { self.store = store; self.window = window }

    func journal(_ entry: JournalEntry) throws { try add(.journal(entry)) }

    func volumes() throws -> Set<VolumeRef> {
        try flush()
        return try StoreVolumeLedger(store: store).volumes()
    }
    func created(_ v: VolumeRef) throws { try add(.createdVolume(host: v.host, pool: v.pool, name: v.volume)) }
    func deleted(_ v: VolumeRef) throws { try add(.forgottenVolume(host: v.host, pool: v.pool, name: v.volume)) }

    /// Writes what is pending, in one transaction; kept pending when that fails.
    func flush() throws {
        let batch = pending.withLock { p in
            defer { p = Pending() }
            return p.writes
        }
        do { try store.write(batch) } catch {
            pending.withLock { p in p.writes = batch + p.writes; p.since = p.since ?? .now }
            throw error
        }
    }

    private func add(_ write: StoreWrite) throws {
        let now = ContinuousClock.now
        let due = pending.withLock { p in
            p.writes.append(write)
            if p.since == nil { p.since = now }
            return now - p.since! >= window
        }
        if due { try flush() }
    }
}
