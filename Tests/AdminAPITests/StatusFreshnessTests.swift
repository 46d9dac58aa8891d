import AdminAPI
import Foundation
import Libvirt
import PlatformEngine
import StateStore
import Testing
import TestSupport

/// `GET /v1/status` is kept between requests and made again only when what it shows changed:
/// over the real socket, a change in libvirt or in the store (from another handle, as another
/// `vpctl` process would write it) shows in the very next answer; no change, the same bytes.
@Suite struct StatusFreshnessTests {
    struct Answer {
        var timing: String
        var body: Data
        var status: PlatformStatus { get throws { try WireJSON.decoder().decode(PlatformStatus.self, from: body) } }
        func processor(_ name: String) throws -> PlatformStatus.Processor? { try status.processors.first { $0.name == name } }
    }

    func getStatus(_ socket: String) async throws -> Answer {
        let raw = try await RawHTTP.get(.unix(socket), "/v1/status")
        #expect(RawHTTP.status(raw) == 200)
        let (headers, body) = try RawHTTP.split(raw)
        let timing = headers.first { $0.lowercased().hasPrefix("server-timing:") } ?? ""
        return Answer(timing: timing, body: body)
    }

    @Test func theNextAnswerShowsEachChangeAndNoChangeGivesTheKeptBytes() async throws {
        let f = try await APIFixture()
        defer { Task { await f.tearDown() } }
        let socket = f.directory + "/status.sock"
        let server = try AdminServer(api: f.api, listen: .unixSocket(path: socket))
        let (ports, running) = AsyncStream.makeStream(of: Int?.self)
        let serving = Task { try await server.run { running.yield($0) } }
        defer { serving.cancel() }
        _ = try await collect(ports, within: .seconds(20), "the admin API listening", until: { _ in true })

        let first = try await getStatus(socket)
        #expect(first.timing.contains("desc=\"made\""), "the first answer is made: \(first.timing)")
        let again = try await getStatus(socket)
        #expect(again.timing.contains("desc=\"kept\""), "nothing changed: the kept answer (\(again.timing))")
        #expect(again.body == first.body)

        // A processor stopped in libvirt, behind the daemon's back.
        let p2 = "\(f.name)-p2"
        #expect(try first.processor(p2)?.state == "running")
        try Connection(uri: "test:///default").domain(named: p2).destroy()
        let stopped = try await getStatus(socket)
        #expect(try stopped.processor(p2)?.state == "shutoff", "the next answer shows the processor stopped")
        #expect(stopped.timing.contains("desc=\"made\""))

        // A write to the store from another handle on its file: another vpctl process.
        let p3 = "\(f.name)-p3"
        #expect(try stopped.processor(p3)?.role != "failed")
        let other = try SQLitePlatformStore(path: f.directory + "/state.sqlite")
        try other.markFailed(p3, reason: "test")
        let failed = try await getStatus(socket)
        #expect(try failed.processor(p3)?.role == "failed", "the next answer shows the processor failed")

        // Events are no change of what status shows: the answer stays kept.
        try other.record(PlatformEvent(kind: .service, detail: "not a change of state"))
        let afterEvent = try await getStatus(socket)
        #expect(afterEvent.timing.contains("desc=\"kept\""), "an event does not make status again (\(afterEvent.timing))")
        #expect(afterEvent.body == failed.body)
    }
}
