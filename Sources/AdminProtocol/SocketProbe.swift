import Foundation

/// What is at a Unix socket path: nothing, something that is not a socket, a socket nobody
/// accepts on (a daemon that died leaves one), or a listening daemon. The server checks it before
/// it binds; the client before it chooses between the daemon and working directly.
public enum SocketProbe: Equatable, Sendable {
    case absent
    case notASocket
    /// Connecting failed: `errno`'s text (ECONNREFUSED for a stale socket).
    case refused(String)
    /// Connecting was not allowed (EACCES): a daemon of another user, probably.
    case denied(String)
    case accepting

    public static func probe(_ path: String) -> SocketProbe {
        var info = stat()
        guard lstat(path, &info) == 0 else { return .absent }
        guard info.st_mode & S_IFMT == S_IFSOCK else { return .notASocket }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return .refused(String(cString: strerror(errno))) }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return .refused("the path is longer than a socket address holds") }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0 }
        }
        let code = errno
        if connected { return .accepting }
        let why = String(cString: strerror(code))
        return code == EACCES || code == EPERM ? .denied(why) : .refused(why)
    }

    /// `/run/virtualplatform/<platform>.sock`: where `vpctl serve` listens unless told otherwise.
    public static func defaultPath(platform: String) -> String { "/run/virtualplatform/\(platform).sock" }
}
