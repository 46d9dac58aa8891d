import Foundation
import Hummingbird
import ServiceLifecycle
import StateStore

/// `GET /v1/events`: JSON (`?after=N&limit=M`, as `vpctl events`), or with
/// `Accept: text/event-stream` a Server-Sent Events stream whose `id:` is the event id, so a
/// client that reconnects with `Last-Event-ID` (or `?after=`) misses nothing and sees nothing twice.
extension AdminAPI {
    func addEventRoutes(_ v1: RouterGroup<BasicRequestContext>) {
        v1.get("/events") { request, _ in
            let query = request.uri.queryParameters
            let after: Int64? = try query.integer("after", default: nil, in: 0...Int64.max)
            if request.headers[.accept]?.contains("text/event-stream") == true {
                let lastEventID = request.headers.first { $0.name.canonicalName == "last-event-id" }?.value
                let resume = try lastEventID.map { raw in
                    guard let id = Int64(raw) else { throw APIError(.invalidRequest, "Last-Event-ID header", "'\(raw)' is not an event id") }
                    return id
                }
                // Without a place to resume from, the stream starts with the next event.
                let start = try resume ?? after ?? store.events(limit: 1).last?.id ?? 0
                return eventStream(after: start)
            }
            let limit = try query.integer("limit", default: 100, in: 1...10_000)
            return try JSONBody.response(try store.events(after: after, limit: limit))
        }
    }

    func eventStream(after start: Int64) -> Response {
        let store = self.store, poll = eventPoll
        let body = ResponseBody { writer in
            var last = start
            var quiet = Duration.zero
            // A stream never ends by itself: it ends with the daemon (graceful shutdown waits for it).
            while !Task.isCancelled, !Task.isShuttingDownGracefully {
                let events = try store.events(after: last, limit: 1000)
                // One write per batch: each write waits for the connection's event loop, and one
                // per event fell behind 1,000 events/s on a busy host (vp-bench api-events).
                if !events.isEmpty {
                    try await writer.write(ByteBuffer(string: try events.map { try ServerSentEvent($0).text }.joined()))
                    last = events.last?.id ?? last
                }
                if events.isEmpty {
                    // A comment now and then: a client gone away shows up as a failed write.
                    quiet += poll
                    if quiet >= .seconds(10) { try await writer.write(ByteBuffer(string: ": idle\n\n")); quiet = .zero }
                    try await Task.sleep(for: poll)
                } else {
                    quiet = .zero
                }
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }
}

/// One event in the SSE wire format: `id`, `event` (its kind) and one line of JSON `data`.
struct ServerSentEvent {
    let text: String
    init(_ event: PlatformEvent) throws {
        let json = String(decoding: try JSONBody.encode(event, pretty: false), as: UTF8.self)
        text = "id: \(event.id ?? 0)\nevent: \(event.kind.rawValue)\ndata: \(json)\n\n"
    }
}
