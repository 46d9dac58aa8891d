import Hummingbird

/// JSON answers say `Content-Type: application/json`, as they always have: the generated code
/// adds `; charset=utf-8`, a parameter RFC 8259 does not define for JSON, and clients that
/// compare the media type should not have to know that.
struct JSONContentTypeMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        if response.headers[.contentType] == "application/json; charset=utf-8" { response.headers[.contentType] = "application/json" }
        return response
    }
}
