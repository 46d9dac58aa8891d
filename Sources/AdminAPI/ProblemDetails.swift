import Failover
import Foundation
import HostDoctor
import Hummingbird
import Libvirt
import OpenAPIRuntime
import PlatformEngine
import PlatformModel
import Reconciler
import StateStore

/// An error as RFC 9457 problem details (`application/problem+json`), carrying the error's kind.
public struct ProblemDetails: Codable, Sendable, Equatable {
    /// invalid-request, invalid-input, unauthorized, not-found, conflict, too-large, unavailable, internal.
    public var kind: String
    public var type: String
    public var title: String
    public var status: Int
    public var detail: String
    /// For an invalid definition: every problem, with file, line and field.
    public var issues: [ConfigIssue]?

    init(_ status: HTTPResponse.Status, kind: String, detail: String, issues: [ConfigIssue]? = nil) {
        self.kind = kind
        type = "urn:virtualplatform:problem:\(kind)"
        title = status.reasonPhrase
        self.status = status.code
        self.detail = detail
        self.issues = issues
    }
}

/// The one place where an error becomes an HTTP status. An error type not named here is internal
/// (500); typed errors with a kind will make most of these cases one.
public func problem(for error: any Error) -> ProblemDetails {
    switch error {
    // The generated server wraps what a handler, a middleware or the decoding of the request
    // threw; what it found itself (an unexpected content type) keeps the status it chose.
    case let e as ServerError:
        let inner = problem(for: e.underlyingError)
        guard inner.kind == "internal", (400..<500).contains(e.httpStatus.code) else { return inner }
        return ProblemDetails(e.httpStatus, kind: "invalid-request", detail: e.causeDescription)
    case let e as APIError:
        switch e.kind {
        case .invalidRequest: return ProblemDetails(.badRequest, kind: "invalid-request", detail: e.description)
        case .invalidInput: return ProblemDetails(.unprocessableContent, kind: "invalid-input", detail: e.description)
        case .notFound: return ProblemDetails(.notFound, kind: "not-found", detail: e.description)
        case .conflict: return ProblemDetails(.conflict, kind: "conflict", detail: e.description)
        case .unauthorized: return ProblemDetails(.unauthorized, kind: "unauthorized", detail: e.description)
        }
    case let e as ConfigErrors:
        return ProblemDetails(.unprocessableContent, kind: "invalid-input", detail: e.description, issues: e.issues)
    case let e as DecodingError:
        return ProblemDetails(.badRequest, kind: "invalid-request", detail: describe(e))
    // An unfinished move owns the devices; a processor reserved or unfit for the move.
    case is MoveInProgress, is MoveRefused, is PlanRefused:
        return ProblemDetails(.conflict, kind: "conflict", detail: "\(error)")
    // Administration's refusals (already moving, carries a personality, part of a move, not
    // confirmed off): the platform's state forbids it now. Unknown names are 404 before this.
    case is FailoverError:
        return ProblemDetails(.conflict, kind: "conflict", detail: "\(error)")
    case is LockTimeout, is StateStoreError, is PortSecurity.Unavailable:
        return ProblemDetails(.serviceUnavailable, kind: "unavailable", detail: "\(error)")
    case let e as LibvirtError where e.isNotFound:
        return ProblemDetails(.notFound, kind: "not-found", detail: e.description)
    case let e as LibvirtError where e.isConnectionFailure:
        return ProblemDetails(.serviceUnavailable, kind: "unavailable", detail: e.description)
    case let e as HTTPError where e.status == .contentTooLarge:
        return ProblemDetails(.contentTooLarge, kind: "too-large", detail: e.body ?? "the request body is too large")
    case let e as HTTPError where e.status == .notFound:
        return ProblemDetails(.notFound, kind: "not-found", detail: e.body ?? "no such route")
    case let e as HTTPError where (400..<500).contains(e.status.code):
        return ProblemDetails(e.status, kind: "invalid-request", detail: e.body ?? e.status.reasonPhrase)
    default:
        return ProblemDetails(.internalServerError, kind: "internal", detail: "\(error)")
    }
}

/// "field 'personality': expected String, found a number" — the path, then what was wrong.
private func describe(_ error: DecodingError) -> String {
    func path(_ keys: [any CodingKey]) -> String { keys.isEmpty ? "the body" : "field '\(keys.map(\.stringValue).joined(separator: "."))'" }
    switch error {
    case .typeMismatch(let type, let c): return "\(path(c.codingPath)): expected \(type): \(c.debugDescription)"
    case .valueNotFound(let type, let c): return "\(path(c.codingPath)): expected \(type), found null"
    case .keyNotFound(let key, let c): return "\(path(c.codingPath + [key])): missing"
    // What swift-openapi-runtime says of a field that `additionalProperties: false` does not allow.
    case .dataCorrupted(let c) where c.debugDescription.hasPrefix("Additional properties are disabled"):
        return "\(path(c.codingPath)): unknown field (see the operation's request body in /openapi.yaml)"
    case .dataCorrupted(let c): return "\(path(c.codingPath)): \(c.debugDescription)"
    @unknown default: return "\(error)"
    }
}

extension ProblemDetails {
    var response: Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = (try? encoder.encode(self)) ?? Data(detail.utf8)
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        if status == 401 { headers[.wwwAuthenticate] = "Bearer" }
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// Every error a route throws leaves as problem details, mapped by `problem(for:)`.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let details = problem(for: error)
            if details.status >= 500 { context.logger.error("\(request.method) \(request.uri.path): \(details.detail)") }
            return details.response
        }
    }
}
