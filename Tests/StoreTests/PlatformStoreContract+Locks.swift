import Foundation
import StateStore
import Synchronization
import SystemSupport
import Testing
import TestSupport

/// The platform lock excludes other holders and names them to a waiter, which gives up at its
/// deadline; the service lock has one holder at a time.
extension PlatformStoreContract {
    @Test(arguments: StoreKind.allCases)
    func exclusiveSectionsNeverOverlap(_ kind: StoreKind) async throws {
        let a = try kind.make()
        let b = try kind.reopen(a)
        let inside = Overlap()
        let waiters = Tally()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for store in [a, b, a, b] {
                group.addTask {
                    try await store.exclusively(deadline: .seconds(60), waiting: { _ in waiters.add() }) {
                        let first = inside.enter() == 1
                        // The first holder keeps the lock until the three others are waiting for it.
                        if first { try await waitUntil("the others wait for the lock", within: .seconds(60)) { waiters.count == 3 } }
                        inside.leave()
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(inside.most == 1)
        #expect(inside.entries == 4)
    }

    @Test(arguments: StoreKind.allCases)
    func aWaiterForThePlatformLockNamesItsHolderAndGivesUpAtTheDeadline(_ kind: StoreKind) async throws {
        let holder = try kind.make()
        let waiter = try kind.reopen(holder)
        let release = AsyncStream<Void>.makeStream()
        let (taken, tookIt) = AsyncStream<Void>.makeStream()
        let holding = Task {
            try await holder.exclusively {
                tookIt.yield()
                for await _ in release.stream { break }
            }
        }
        defer { release.continuation.finish(); holding.cancel() }
        for await _ in taken { break }

        let reported = Mutex<[LockHolder]>([])
        let started = ContinuousClock.now
        do {
            try await waiter.exclusively(deadline: .milliseconds(300), waiting: { h in reported.withLock { $0.append(h) } }) {}
            Issue.record("the lock was taken while held")
        } catch let timeout as LockTimeout {
            #expect(timeout.holder.pid == getpid())
            #expect(!timeout.holder.command.isEmpty)
            #expect(timeout.description.contains("pid \(getpid())"))
        }
        // It gave up at its own deadline, not before, and not at the default one (120 s). The upper
        // bound is loose: in a full parallel run the task pool can be seconds late (4.4 s seen).
        let waited = ContinuousClock.now - started
        #expect(waited >= .milliseconds(300) && waited < .seconds(30), "gave up after \(waited)")
        #expect(reported.withLock { $0.map(\.pid) } == [getpid()], "the wait is reported once, naming the holder")
        release.continuation.finish()
        try await holding.value
        try await waiter.exclusively(deadline: .seconds(5)) {}
    }

    @Test(arguments: StoreKind.allCases)
    func onlyOneServiceHoldsThePlatformUntilItsLockIsDropped(_ kind: StoreKind) throws {
        let s = try kind.make()
        var lock: (any ServiceLock)? = try s.acquireServiceLock()
        #expect(kindThrown { try kind.reopen(s).acquireServiceLock() } == .conflict, "another serve holds it")
        withExtendedLifetime(lock) {}
        lock = nil
        #expect(throws: Never.self) { _ = try s.acquireServiceLock() }
    }
}

/// How many bodies were inside an exclusive section at once, at most.
final class Overlap: Sendable {
    private let counts = Mutex((now: 0, most: 0, entries: 0))
    var most: Int { counts.withLock { $0.most } }
    var entries: Int { counts.withLock { $0.entries } }
    /// Returns how many have entered so far, this one included.
    @discardableResult
    func enter() -> Int { counts.withLock { $0.now += 1; $0.entries += 1; $0.most = max($0.most, $0.now); return $0.entries } }
    func leave() { counts.withLock { $0.now -= 1 } }
}

final class Tally: Sendable {
    private let value = Mutex(0)
    var count: Int { value.withLock { $0 } }
    func add() { value.withLock { $0 += 1 } }
}
