import AdminProtocol
import Foundation
import SystemSupport

/// Whether a command goes through the running daemon or works directly on the state store and
/// libvirt. The rules, in this one place:
///
/// - `--direct`: directly, whatever runs.
/// - `--listen ADDR:PORT` (with `--token-file`): through the daemon there; if it does not answer,
///   that is an error (TCP is only ever asked for on purpose).
/// - The Unix socket (`--socket PATH`, by default `/run/virtualplatform/<platform>.sock`):
///   - no file there: no daemon runs; directly, silently.
///   - a socket that accepts a connection: through the daemon. An error it answers is that
///     error, never a reason to try directly.
///   - a socket nobody accepts on (left by a daemon that crashed), or a file that is not a
///     socket: directly, with a one-line note on stderr. Safe: the store's platform lock keeps
///     a direct command and a daemon from acting at once.
///   - a socket this user may not connect to: an error (a daemon runs; working beside it under
///     another user's feet would hide that).
public enum DaemonRoute: Equatable, Sendable {
    case direct(note: String?)
    case daemon(AdminClient.Address)

    public static func choose(forceDirect: Bool, socket: String, tcp: AdminClient.Address?) throws -> DaemonRoute {
        if forceDirect { return .direct(note: nil) }
        if let tcp { return .daemon(tcp) }
        switch SocketProbe.probe(socket) {
        case .absent: return .direct(note: nil)
        case .accepting: return .daemon(.unixSocket(path: socket))
        case .notASocket: return .direct(note: "\(socket) is not a socket; no daemon to ask: working directly")
        case .refused(let why):
            return .direct(note: "no daemon answers on \(socket) (\(why); left by a vpctl serve that stopped?): working directly")
        case .denied(let why):
            throw DaemonUnreachable(address: .unixSocket(path: socket),
                                    cause: "\(why): a daemon runs there but this user may not use it (run as its user, or --direct)")
        }
    }

    /// The bearer token in `file` (its first line, trimmed), for `--listen`.
    public static func token(file: String) throws -> String {
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw DaemonTokenError(file: file, cause: "cannot read it: \(error.localizedDescription)")
        }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw DaemonTokenError(file: file, cause: "it is empty") }
        return token
    }
}

/// The token file given with `--listen` cannot be used.
public struct DaemonTokenError: KindedError, Sendable {
    public var kind: ErrorKind { .invalidInput }
    public var object: String? { "token file \(file)" }
    public let file: String
    public let cause: String
    public var description: String { "token file \(file): \(cause)" }
}
