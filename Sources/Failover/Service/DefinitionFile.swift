import Foundation
import SystemSupport
#if canImport(Glibc)
import Glibc
#endif

/// The file `vpctl serve` reads its definition from. A definition applied through the admin API
/// is written back to it, so that a reload (SIGHUP, `POST /v1/reload`) or a restart reads the
/// definition in force instead of undoing the apply.
struct DefinitionFile {
    let path: String

    /// Replaces the file's content at once: a new file beside it (the target of a symbolic link,
    /// if it is one), synced, then renamed over it with the old file's mode.
    func replace(with text: String) throws {
        let target = URL(fileURLWithPath: path).resolvingSymlinksInPath()
        let temporary = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).vp-new").path
        var status = stat()
        let mode = stat(target.path, &status) == 0 ? status.st_mode & 0o7777 : 0o600
        func failed(_ what: String) -> PlatformError {
            PlatformError(.unavailable, "definition file \(path)", "cannot \(what): \(String(cString: strerror(errno)))")
        }
        let fd = open(temporary, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, mode)
        guard fd >= 0 else { throw failed("write \(temporary)") }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced, fchmodat(AT_FDCWD, temporary, mode, 0) == 0 else {
            let error = failed("write \(temporary)")
            unlink(temporary)
            throw error
        }
        guard rename(temporary, target.path) == 0 else {
            let error = failed("replace it")
            unlink(temporary)
            throw error
        }
    }
}
