import Foundation
import Synchronization

/// A fresh directory for one test's throwaway files (state stores, definitions, sockets), on
/// tmpfs when the machine has one, removed when the test process exits. The SQLite store syncs
/// every commit, and with the disk busy (guests, builds) each sync held a thread of Swift's task
/// pool (one per core) for up to seconds, and with it every test with a deadline. The store's
/// settings are the product's; only where a test keeps its throwaway files changes.
public enum ScratchDirectory {
    /// `<tmpfs or the temporary directory>/<prefix>-<unique>`, created. Short, so that a Unix
    /// socket inside it fits in 108 bytes.
    public static func make(_ prefix: String) throws -> String {
        let root = FileManager.default.isWritableFile(atPath: "/dev/shm") ? "/dev/shm" : FileManager.default.temporaryDirectory.path
        let path = "\(root)/\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        made.withLock { state in
            if !state.registered {
                state.registered = true
                atexit { ScratchDirectory.removeAll() }
            }
            state.paths.append(path)
        }
        return path
    }

    private static let made = Mutex<(paths: [String], registered: Bool)>(([], false))

    private static func removeAll() {
        for path in made.withLock({ $0.paths }) { try? FileManager.default.removeItem(atPath: path) }
    }
}
