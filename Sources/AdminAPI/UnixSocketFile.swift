import AdminProtocol
import Foundation
import SystemSupport

/// The admin API's socket file: its directory (0700, made if missing), a socket left by a dead
/// daemon replaced, a live one refused, and the socket itself 0600 once bound.
enum UnixSocketFile {
    static func defaultPath(platform: String) -> String { SocketProbe.defaultPath(platform: platform) }

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
        switch SocketProbe.probe(path) {
        case .absent: return
        case .notASocket:
            throw AdminServerError(.conflict, object: "socket \(path)", cause: "the path exists and is not a socket; nothing was removed")
        case .accepting:
            throw AdminServerError(.conflict, object: "socket \(path)", cause: "another daemon is listening on it (is vpctl serve already running?)")
        case .refused, .denied: break
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
}
