import Foundation
import Hummingbird
import OpenAPIRuntime
import ServiceLifecycle
import StateStore

/// `GET /v1/events`: JSON (`?after=N&limit=M`, as `vpctl events`), or with
/// `Accept: text/event-stream` a Server-Sent Events stream whose `id:` is the event id, so a
/// client that reconnects with `Last-Event-ID` (or `?after=`) misses nothing and sees nothing twice.
extension AdminAPI {
    func listEvents(_ input: Operations.ListEvents.Input) async throws -> Operations.ListEvents.Output {
        let after = input.query.after
        if wantsStream(input.headers.accept) {
            // Without a place to resume from, the stream starts with the next event.
            let start = try input.headers.lastEventID ?? after ?? store.events(limit: 1).last?.id ?? 0
            let body = HTTPBody(EventStream(feed: eventFeed, after: start), length: .unknown, iterationBehavior: .single)
            return .ok(.init(headers: .init(cacheControl: "no-cache"), body: .textEventStream(body)))
        }
        let events = try store.events(after: after, limit: input.query.limit ?? 100)
        return .ok(.init(body: .json(events.map(Payload.init))))
    }

    /// A stream only when asked for one over JSON: without an Accept header the generated code
    /// lists every content type as acceptable, and a client that did not ask must get a list.
    private func wantsStream(_ accept: [AcceptHeaderContentType<Operations.ListEvents.AcceptableContentType>]) -> Bool {
        guard let stream = accept.first(where: { $0.contentType == .textEventStream }) else { return false }
        let json = accept.first { $0.contentType == .json }
        return json.map { stream.quality.doubleValue > $0.quality.doubleValue } ?? true
    }
}

/// The bytes of an event stream, from the daemon's one `EventFeed`. It is read by the task that
/// writes the response, so it sees the daemon's graceful shutdown (the stream ends, and the
/// shutdown waits for it) and a client gone away (a failed write ends the reading).
struct EventStream: AsyncSequence, Sendable {
    typealias Element = ArraySlice<UInt8>
    let feed: EventFeed
    let after: Int64

    func makeAsyncIterator() -> Iterator { Iterator(feed: feed, last: after) }

    struct Iterator: AsyncIteratorProtocol {
        let feed: EventFeed
        var last: Int64

        mutating func next() async throws -> ArraySlice<UInt8>? {
            // A stream never ends by itself: it ends with the daemon.
            guard !Task.isCancelled, !Task.isShuttingDownGracefully else { return nil }
            if let batch = try await feed.events(after: last, within: .seconds(10)) {
                last = batch.last
                return ArraySlice(batch.text)
            }
            guard !Task.isCancelled, !Task.isShuttingDownGracefully else { return nil }
            // Quiet for 10 s: a comment, so that a client gone away shows up as a failed write.
            return ArraySlice(": idle\n\n".utf8)
        }
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
