import AdminProtocol
import Foundation
import Hummingbird
import OpenAPIRuntime
import PlatformModel
import SystemSupport

extension ProblemDetails {
    init(_ status: HTTPResponse.Status, kind: String, detail: String, object: String? = nil, field: String? = nil,
         issues: [ConfigIssue]? = nil) {
        self.init(status: status.code, title: status.reasonPhrase, kind: kind, detail: detail, object: object, field: field, issues: issues)
    }
}

/// The one place where an error kind becomes an HTTP status (vpctl's `ExitCodes` is the other
/// mapping of the same kinds).
public func httpStatus(for kind: ErrorKind) -> HTTPResponse.Status {
    switch kind {
    case .invalidInput: .unprocessableContent
    case .notFound: .notFound
    case .conflict: .conflict
    case .unavailable: .serviceUnavailable
    case .internal: .internalServerError
    }
}

/// Every error a route throws, as problem details: a refused request (malformed, unauthorized,
/// too large) by its own rules, any other error by its kind; an error without one is internal.
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
        case .invalidRequest: return ProblemDetails(.badRequest, kind: "invalid-request", detail: e.description, object: e.object)
        case .invalidInput: return ProblemDetails(.unprocessableContent, kind: "invalid-input", detail: e.description, object: e.object)
        case .notFound: return ProblemDetails(.notFound, kind: "not-found", detail: e.description, object: e.object)
        case .conflict: return ProblemDetails(.conflict, kind: "conflict", detail: e.description, object: e.object)
        case .unauthorized: return ProblemDetails(.unauthorized, kind: "unauthorized", detail: e.description, object: e.object)
        }
    case let e as DecodingError:
        return ProblemDetails(.badRequest, kind: "invalid-request", detail: describe(e))
    case let e as HTTPError where e.status == .contentTooLarge:
        return ProblemDetails(.contentTooLarge, kind: "too-large", detail: e.body ?? "the request body is too large")
    case let e as HTTPError where e.status == .notFound:
        return ProblemDetails(.notFound, kind: "not-found", detail: e.body ?? "no such route")
    case let e as HTTPError where (400..<500).contains(e.status.code):
        return ProblemDetails(e.status, kind: "invalid-request", detail: e.body ?? e.status.reasonPhrase)
    case let e as ConfigErrors:
        return ProblemDetails(httpStatus(for: e.kind), kind: e.kind.rawValue, detail: e.description, object: e.object, field: e.field,
                              issues: e.issues)
    case let e as any KindedError:
        return ProblemDetails(httpStatus(for: e.kind), kind: e.kind.rawValue, detail: e.description, object: e.object, field: e.field)
    default:
        return ProblemDetails(.internalServerError, kind: ErrorKind.internal.rawValue, detail: "\(error)")
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
