import Hummingbird

/// Every request body is read whole, up to `RequestBody.maxBytes`, before any handler sees it:
/// a larger one is a 413 that nothing was done for. The bytes as sent stay at hand for the
/// handlers that parse them themselves (a definition's problems carry the lines the client sent).
enum RequestBody {
    /// A body larger than a platform definition may be is refused before it is read whole.
    static let maxBytes = 4 << 20

    /// The body of the request being handled, as the client sent it.
    @TaskLocal static var raw: ByteBuffer?
}

struct RequestBodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var request = request
        var body = ByteBuffer()
        // Read here rather than with collectBody(upTo:), whose error is NIO's, not a 413.
        for try await part in request.body {
            guard body.readableBytes + part.readableBytes <= RequestBody.maxBytes else {
                throw HTTPError(.contentTooLarge, message: "the request body is too large: at most \(RequestBody.maxBytes >> 20) MiB")
            }
            var part = part
            body.writeBuffer(&part)
        }
        request.body = Hummingbird.RequestBody(buffer: body)
        return try await RequestBody.$raw.withValue(body) { try await next(request, context) }
    }
}
