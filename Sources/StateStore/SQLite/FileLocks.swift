import Foundation
import SystemSupport

/// An exclusive flock on a file that holds the holder's pid; released when deallocated or
/// when the process dies.
final class FileServiceLock: ServiceLock {
    private let fd: Int32
    init(path: String) throws {
        fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw PlatformError(.unavailable, "lock file \(path)", "cannot open it: \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }?
                .trimmingCharacters(in: .whitespacesAndNewlines)
            close(fd)
            throw PlatformError(.conflict, "platform (lock \(path))", "another vpctl serve (pid \(holder ?? "?")) already serves it")
        }
        ftruncate(fd, 0)
        let pid = "\(getpid())\n"
        _ = pid.withCString { write(fd, $0, strlen($0)) }
    }
    deinit { close(fd) }
}

/// What a lock file says about its holder, and how the holder says it.
extension LockHolder {
    /// What the lock file says (its holder may have written nothing yet).
    init(file: String) {
        let text = FileManager.default.contents(atPath: file).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ", maxSplits: 1).map(String.init)
        self.init(pid: parts.first.flatMap { Int32($0) }, command: parts.count > 1 ? parts[1] : "")
    }

    func write(to fd: Int32) {
        let line = "\(pid.map(String.init) ?? "?") \(command.replacingOccurrences(of: "\n", with: " "))\n"
        ftruncate(fd, 0)
        _ = line.withCString { pwrite(fd, $0, strlen($0), 0) }
    }
}
