import Foundation
import GRDB
import PlatformModel
import StateStore
import Testing

/// What only the file store promises: it is its owner's alone.
struct SQLitePlatformStoreTests {
    func mode(_ path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    @Test func theStoreAndItsOwnDirectoryAreReadableByItsOwnerOnly() async throws {
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent("vp-perm-\(UUID().uuidString)").path
        let path = parent + "/state/state.sqlite"
        let store = try SQLitePlatformStore(path: path)
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
        _ = try SQLitePlatformStore(path: path)
        #expect(try mode(path) == 0o600)
    }

    /// The POSIX locks this process holds on `path`'s file, as the kernel lists them.
    func locksHeld(on path: String) throws -> [String] {
        var info = stat()
        try #require(stat(path, &info) == 0)
        let me = "\(getpid())"
        return try String(contentsOfFile: "/proc/locks", encoding: .utf8).split(separator: "\n").filter { line in
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            return f.count >= 6 && f[1] == "POSIX" && f[4] == me && f[5].hasSuffix(":\(info.st_ino)")
        }.map(String.init)
    }

    /// Opening the store a second time in a process (a second engine, a reload) must not drop the
    /// locks SQLite holds for the first: without them another process closing the database takes it
    /// for unused and checkpoints and deletes the WAL under the first (its reads stuck in the past,
    /// its writes lost), as the fault-matrix bench saw.
    @Test func openingTheStoreAgainKeepsTheLocksOfTheOneOpen() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vp-locks-\(UUID().uuidString)/state.sqlite").path
        let first = try SQLitePlatformStore(path: path)
        try first.record(PlatformEvent(kind: .service, detail: "first"))
        let held = try locksHeld(on: path)
        #expect(!held.isEmpty, "SQLite holds a shared lock on an open WAL database")
        let second = try SQLitePlatformStore(path: path)
        #expect(try locksHeld(on: path).count >= held.count, "the first store's locks are still held")
        try second.record(PlatformEvent(kind: .service, detail: "second"))
        #expect(try first.events(limit: 2).map(\.detail) == ["first", "second"])
    }
}

/// A row whose word the store does not know (written by another version, or by hand) is refused
/// when read, naming the field, the word and the words it knows; never taken for another.
struct SQLiteStrictWordTests {
    @Test func aJournalActionItDoesNotKnowIsRefused() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vp-words-\(UUID().uuidString)/state.sqlite").path
        let store = try SQLitePlatformStore(path: path)
        try store.append(JournalEntry(actor: "test", cause: "test", object: "o", action: .create))
        try DatabaseQueue(path: path).write { try $0.execute(sql: "UPDATE journal SET action = 'start'") }
        #expect { try store.journal() } throws: { error in
            let text = "\(error)"
            return text.contains("action") && text.contains("'start' is not one of \(JournalEntry.Action.words)")
        }
    }
}
