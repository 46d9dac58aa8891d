import Foundation
import SystemSupport

/// The admin API's socket file: its directory (0700, made if missing), a socket left by a dead
/// daemon replaced, a live one refused, and the socket itself 0600 once bound.
enum UnixSocketFile {
    static func defaultPath(platform: String) -> String { "/run/virtualplatform/\(platform).sock" }

    static func prepare(_ path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            } catch {
                throw AdminServerError(.unavailable, object: "socket directory \(directory)", cause: "cannot create it: \(error.localizedDescription)")
            }
        }
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFSOCK else {
            throw AdminServerError(.conflict, object: "socket \(path)", cause: "the path exists and is not a socket; nothing was removed")
        }
        if answers(path) {
            throw AdminServerError(.conflict, object: "socket \(path)", cause: "another daemon is listening on it (is vpctl serve already running?)")
        }
        guard unlink(path) == 0 else {
            throw AdminServerError(object: "socket \(path)", cause: "cannot remove the stale socket: \(String(cString: strerror(errno)))")
        }
    }

    /// Only the daemon's user may connect.
    static func restrict(_ path: String) throws {
        guard chmod(path, 0o600) == 0 else {
            throw AdminServerError(object: "socket \(path)", cause: "cannot make it 0600: \(String(cString: strerror(errno)))")
        }
    }

    /// Removes the socket when the daemon stops, if it is still a socket.
    static func remove(_ path: String) {
        var info = stat()
        if lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK { unlink(path) }
    }

    /// Whether something accepts connections on the socket (a daemon that died leaves one that refuses).
    static func answers(_ path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0 }
        }
    }
}
