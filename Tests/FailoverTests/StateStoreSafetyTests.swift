import Foundation
import StateStore
import Synchronization
import Testing

/// The state store is its owner's alone, and its platform lock says who holds it and does not
/// make anyone wait forever.
struct StateStoreSafetyTests {
    func mode(_ path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    @Test func theStoreAndItsOwnDirectoryAreReadableByItsOwnerOnly() async throws {
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent("vp-perm-\(UUID().uuidString)").path
        let path = parent + "/state/state.sqlite"
        let store = try StateStore(path: path)
        try store.record(PlatformEvent(kind: .service, detail: "x"))
        _ = try await store.exclusively { 1 }
        let lock = try store.acquireServiceLock()
        #expect(try mode(parent + "/state") == 0o700)
        #expect(try mode(parent) & 0o077 != 0, "only the store's own directory is private: a pool may live beside it")
        for file in [path, path + "-wal", path + "-shm", path + ".lock", path + ".serve.lock"] {
            #expect(try mode(file) == 0o600, "\(file)")
        }
        withExtendedLifetime(lock) {}
        // A store made world-readable before is made private when opened.
        chmod(path, 0o644)
        _ = try StateStore(path: path)
        #expect(try mode(path) == 0o600)
    }

    @Test func aWaiterForThePlatformLockNamesItsHolderAndGivesUpAtTheDeadline() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vp-lock-\(UUID().uuidString).sqlite").path
        let holder = try StateStore(path: path), waiter = try StateStore(path: path)
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
}
