import Foundation
import Hummingbird
import SystemSupport

/// The token every request over TCP must carry, read from a file only its owner can read.
public struct BearerToken: Sendable {
    let value: String

    /// Refuses a file that group or others may read or write: the token would not be a secret.
    public init(file path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw AdminServerError(object: "token file \(path)", cause: String(cString: strerror(errno)))
        }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw AdminServerError(object: "token file \(path)",
                                   cause: "mode \(String(mode, radix: 8)) lets others read it; it must be 0600 or stricter (chmod 600 \(path))")
        }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw AdminServerError(object: "token file \(path)", cause: "cannot read it: \(error.localizedDescription)")
        }
        value = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !value.isEmpty else { throw AdminServerError(object: "token file \(path)", cause: "it is empty") }
    }

    /// Compares every byte, so the time taken says nothing about how much of a guess was right.
    func matches(_ candidate: Substring) -> Bool {
        let a = Array(value.utf8), b = Array(candidate.utf8)
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// 401 unless the request carries `Authorization: Bearer <token>`.
struct BearerAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: BearerToken

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            throw APIError(.unauthorized, "Authorization header", "missing: send Authorization: Bearer <token>")
        }
        guard header.hasPrefix("Bearer "), token.matches(header.dropFirst("Bearer ".count)) else {
            throw APIError(.unauthorized, "Authorization header", "not the bearer token of this daemon")
        }
        return try await next(request, context)
    }
}

/// The admin API could not start: which object (socket, token file, address) and why.
/// The admin API cannot start as asked: a flag, an address or a token file is wrong (invalid
/// input), or its socket is taken (conflict).
public struct AdminServerError: KindedError, Sendable, Equatable {
    public let kind: ErrorKind
    let what: String
    public let cause: String
    public var object: String? { what }
    public init(_ kind: ErrorKind = .invalidInput, object: String, cause: String) {
        self.kind = kind; what = object; self.cause = cause
    }
    public var description: String { "admin API: \(what): \(cause)" }
}
