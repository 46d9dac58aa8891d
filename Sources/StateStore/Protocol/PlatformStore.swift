import Foundation
import PlatformModel

/// The controller's memory, as domain operations: who carries which personality (bindings), the
/// NICs' addresses (allocations), the journal, moves of personalities (failovers), what is known
/// about processors and service backends, the volumes the platform created, and the two locks.
/// `SQLitePlatformStore` keeps it in a file; `InMemoryPlatformStore` in memory, for unit tests.
///
/// The contract, checked for every implementation by one test suite (Tests/StoreTests):
/// - Every mutating operation is one transaction: when it throws, nothing it was given is kept.
/// - Reads see every write that returned before them, from any handle on the same store.
/// - A processor carries one personality at most: bindings that give it two are refused.
/// - A MAC belongs to one NIC: allocating it to another key drops the stale holder.
/// - `declare` de-duplicates detections: it returns nil and changes nothing while the personality
///   or the source is in an unfinished move (the source, or the target, of one).
/// - A move's target is free when it is checked (declared with `--to`, or saved at
///   `standbyChosen`): not the source, not the source or target of another unfinished move, not
///   carrying another personality, not failed; otherwise `MoveRefused` and nothing is saved.
/// - `advance(…, rebind: true)` saves the step and moves the binding to the target in one
///   transaction, and never takes another personality's processor (`MoveRefused`).
/// - `giveUpTarget` marks the target failed (when asked), returns the binding to the source and
///   puts the move back to `declared` without a target, together.
/// - Identifiers of failovers, events and journal entries grow and are never reused, so a reader
///   resumes after the last one it saw (`events(after:)`).
/// - `exclusively` runs one body at a time per platform, across handles (and, for a file store,
///   processes); a waiter reports the holder once and gives up at its deadline (`LockTimeout`).
/// - `acquireServiceLock` succeeds for one holder at a time, and throws at once naming the holder.
/// - `stateRevision` changes with every committed change to what status shows (bindings,
///   allocations, moves, processor states, backend health), from any handle; events, journal
///   lines and volume records leave it as it is.
public protocol PlatformStore: Sendable {
    /// Signalled after each change this process commits (other processes' are not: see `StoreChanges`).
    var changes: StoreChanges { get }

    // MARK: Bindings, allocations, journal

    /// Personality → the processor that carries it.
    func bindings() throws -> [String: String]
    /// Allocation key (`NICAllocation.key`) → the NIC's MAC and address.
    func allocations() throws -> [String: NICAllocation]
    /// Replaces the bindings and records new allocations in one transaction, journalling each
    /// changed binding and each allocation. Does nothing when nothing changes.
    func remember(bindings: [String: String], newAllocations: [NICAllocation], actor: String, cause: String) throws
    /// Forgets bindings, allocations, failovers, processor states and backend health (after
    /// `vpctl destroy`); keeps the journal, the events and the volume records.
    func forgetPlatform(actor: String, cause: String) throws
    func append(_ entry: JournalEntry) throws
    /// Journal lines and volume records, in order, in one transaction: all or (when it throws) none.
    func write(_ batch: [StoreWrite]) throws
    /// The last `limit` entries, oldest first.
    func journal(last limit: Int) throws -> [JournalEntry]

    // MARK: Failovers

    /// Records a declared move and, for an unplanned one, marks its source failed, with its event.
    /// Returns the record with its id, or nil (nothing changed) for a detection of a move already
    /// under way. A target given up front is checked as free (`MoveRefused`).
    func declare(_ record: FailoverRecord, event: PlatformEvent) throws -> FailoverRecord?
    func failover(id: Int64) throws -> FailoverRecord?
    /// Moves not done nor aborted, oldest first.
    func unfinishedFailovers() throws -> [FailoverRecord]
    /// The last `limit` moves, oldest first.
    func failovers(last limit: Int) throws -> [FailoverRecord]
    /// Saves a record's new step (and target) with its event. At `standbyChosen` the target is
    /// checked as free; with `rebind` the personality's binding moves to the target, together.
    func advance(_ record: FailoverRecord, to step: FailoverStep, event: PlatformEvent?, rebind: Bool) throws
    /// Gives up a move's target: marks it failed when `markFailed`, returns the personality's
    /// binding to the source, and puts the move back to `declared` without a target.
    func giveUpTarget(_ record: FailoverRecord, reason: String, markFailed: Bool, event: PlatformEvent) throws
    /// Records who asks to abort the unfinished move of `personality` (carried out by the engine).
    func requestAbort(personality: String, by who: String) throws -> FailoverRecord
    /// Ends a move that never fenced its source; a source that still runs is no longer failed.
    func finishAborted(_ record: FailoverRecord, sourceRuns: Bool, event: PlatformEvent) throws
    /// Saves when a silent target's NICs were re-plugged.
    func noteReplug(_ record: FailoverRecord, event: PlatformEvent) throws
    /// An administrator vouches that `processor`, the source of unfinished moves, is off.
    /// Returns the moves it unblocks.
    func confirmFence(processor: String, by who: String) throws -> [FailoverRecord]

    // MARK: Processor states

    func processorStates() throws -> [String: ProcessorState]
    func markFailed(_ processor: String, reason: String) throws
    /// Marks processors as being stopped or restarted on purpose; failed ones stay failed.
    func setMaintenance(_ processors: [String], reason: String) throws
    func clearMaintenance() throws
    /// Returns a processor to the pool: it is no longer failed.
    func clearFailed(_ processor: String, event: PlatformEvent) throws

    // MARK: Status

    /// A number that changes whenever bindings, allocations, moves, processor states or backend
    /// health change: a reader that saw the same number saw the same state. Cheap to read.
    func stateRevision() throws -> Int64

    // MARK: Events

    func record(_ event: PlatformEvent) throws
    /// Events after `id`, oldest first, at most `limit`; or the last `limit` when `id` is nil.
    func events(after id: Int64?, limit: Int) throws -> [PlatformEvent]

    // MARK: Service backends and volumes

    func backendHealth() throws -> [BackendHealthRecord]
    /// Saves changed rows (one per probe and subject) with their events, in one transaction.
    func saveBackendHealth(_ records: [BackendHealthRecord], events: [PlatformEvent]) throws
    /// Ordered by host, pool, name.
    func createdVolumes() throws -> [VolumeRecord]
    /// Remembers a volume once (a second record of it replaces the first).
    func recordCreatedVolume(host: String, pool: String, name: String) throws
    func forgetVolume(host: String, pool: String, name: String) throws

    // MARK: Locks

    /// Runs `body` while holding the platform lock, so two applies (or moves) never interleave.
    /// A waiter reports the holder once through `waiting` and gives up after `deadline`.
    func exclusively<T>(deadline: Duration, waiting: (LockHolder) -> Void, _ body: () async throws -> T) async throws -> T
    /// Holds the platform's service lock for as long as the returned lock lives: only one
    /// `vpctl serve` acts on a platform. Throws at once, naming the holder, when it is taken.
    func acquireServiceLock() throws -> any ServiceLock
}

extension PlatformStore {
    public func journal() throws -> [JournalEntry] { try journal(last: 100) }
    public func failovers() throws -> [FailoverRecord] { try failovers(last: 50) }
    public func events(limit: Int = 100) throws -> [PlatformEvent] { try events(after: nil, limit: limit) }

    public func advance(_ record: FailoverRecord, to step: FailoverStep, event: PlatformEvent?) throws {
        try advance(record, to: step, event: event, rebind: false)
    }

    public func exclusively<T>(deadline: Duration = PlatformLock.deadline, _ body: () async throws -> T) async throws -> T {
        try await exclusively(deadline: deadline, waiting: PlatformLock.reportWaiting, body)
    }
}
