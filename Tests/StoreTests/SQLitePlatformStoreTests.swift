import Foundation
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
}
