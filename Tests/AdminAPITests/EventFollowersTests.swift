import AdminAPI
import Foundation
import StateStore
import Testing
import TestSupport

/// Several followers of the event stream at once, over the real socket, each resuming from its own
/// event id: one from before the daemon's feed first read (it catches up from the store), one
/// from the middle, one from the newest event; events written meanwhile by two writers. Each must
/// get every event after its id once, in the store's order.
@Suite struct EventFollowersTests {
    @Test func everyFollowerGetsEveryLaterEventOnceInOrderWhereverItResumes() async throws {
        let f = try await APIFixture()
        defer { Task { await f.tearDown() } }
        let store = f.platform.store
        for n in 1...5 { try store.record(PlatformEvent(kind: .service, detail: "before \(n)")) }
        let early = try store.events(limit: 5).compactMap(\.id)
        let socket = f.directory + "/followers.sock"
        let server = try AdminServer(api: f.api, listen: .unixSocket(path: socket))
        let (ports, running) = AsyncStream.makeStream(of: Int?.self)
        let serving = Task { try await server.run { running.yield($0) } }
        defer { serving.cancel() }
        _ = try await collect(ports, within: .seconds(20), "the admin API listening", until: { _ in true })

        let writers = 2, each = 150
        let last = early[4] + Int64(writers * each)
        let starts = [early[0], early[2], early[4]]
        try await withThrowingTaskGroup(of: (Int64, [Int64]).self) { group in
            for start in starts {
                group.addTask {
                    let request = ["GET /v1/events HTTP/1.1", "Host: vp", "Accept: text/event-stream", "Last-Event-ID: \(start)"]
                        .joined(separator: "\r\n") + "\r\n\r\n"
                    let stream = try await RawHTTP.exchange(.unix(socket), request, timeout: .seconds(60)) { $0.contains("id: \(last)\n") }
                    return (start, stream.split(whereSeparator: \.isNewline).filter { $0.hasPrefix("id: ") }.compactMap { Int64($0.dropFirst(4)) })
                }
            }
            group.addTask {
                // Once the followers are connected, two writers at once: the store orders them.
                try await Task.sleep(for: .milliseconds(300))
                await withTaskGroup(of: Void.self) { writing in
                    for w in 0..<writers {
                        writing.addTask { for n in 0..<each { try? store.record(PlatformEvent(kind: .service, detail: "writer \(w) event \(n)")) } }
                    }
                }
                return (0, [])
            }
            for try await (start, seen) in group where start != 0 {
                #expect(seen == Array((start + 1)...last), "the follower from \(start): every later event once, in order")
            }
        }
    }
}
