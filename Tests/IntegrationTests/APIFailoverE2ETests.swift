import AdminClient
import AdminProtocol
import AgentClient
import Foundation
import Hosts
import PlatformEngine
import PlatformHarness
import StateStore
import Synchronization
import Testing
import TestSupport

/// A newcomer's failover: `vpctl serve` runs, and from then on the platform is driven and watched
/// only through its admin API over the Unix socket (AdminClient on AsyncHTTPClient). The one
/// thing done from outside is the fault (the carrier's QEMU killed, as a crash would), and the one
/// thing looked at outside the API is what a user of the personality sees: its agent answering
/// on its address.
extension RealDaemon { @Suite struct APIFailoverE2ETests {
    static let name = "ape"
    static func p(_ n: Int) -> String { "\(name)-p\(n)" }

    /// web (front + back) on p1, p2 its hot standby.
    static func platform() throws -> OwnPlatform {
        let definition = DefinitionYAML(platform: name, processors: [p(1), p(2)])
        return try OwnPlatform(name: name, definition: definition.yaml("""
        \(DefinitionYAML.frontAndBack(net: 147))
        personalities:
          - name: web
            nics: [{ vlan: front }, { vlan: back }]
        standby: { mode: hot, count: 1 }
        failover:
          classOfService: [back, front]
        """))
    }

    @Test func aPlannedMoveAndACrashDrivenAndWatchedThroughTheAPI() async throws {
        let platform = try Self.platform()
        do { try await scenario(platform) } catch { await platform.tearDown(cause: "api e2e cleanup"); throw error }
        await platform.tearDown(cause: "api e2e cleanup")
    }

    func scenario(_ platform: OwnPlatform) async throws {
        let (p1, p2) = (Self.p(1), Self.p(2))
        try await platform.engine.apply(cause: "api e2e")
        let socket = platform.directory.appendingPathComponent("api.sock").path
        let serve = try platform.startServe(["--socket", socket])
        let api = AdminClient(address: .unixSocket(path: socket))
        try await waitUntil("the admin API answers on \(socket)", within: .seconds(30), every: .milliseconds(100)) {
            try #require(serve.isRunning, "vpctl serve runs (see \(serve.log))")
            return (try? await api.status()) != nil
        }
        let events = try await EventWatch(api)
        defer { events.stop() }

        // Before: web on p1, p2 its hot standby, and serve watching p1 (heartbeats armed, QEMU watched).
        let status = try await api.status()
        #expect(status.processors.map { "\($0.name) \($0.role) \($0.personality ?? "-")" } == ["\(p1) active web", "\(p2) hot-standby -"])
        let back = try #require(status.memberships.first { $0.personality == "web" && $0.vlan == "back" }?.ip)
        try await events.waitUntilWatching(p1, within: .seconds(90))
        try await expectAnswers(back, on: p1)
        let before = try await Self.scrape(api, until: "the processors sampled") { $0.value("vp_processors", ["state": "standby"]) == 1 }

        // A planned move, asked for by POST /v1/failover (it answers when the move is done) and
        // followed meanwhile through GET /v1/moves/{id}.
        let asked = Task { try await api.failover(FailoverRequest(personality: "web")) }
        let planned = try await followMove(of: "web", after: 0, api)
        #expect(planned.steps == planned.steps.sorted(), "the steps seen through /v1/moves/\(planned.record.id ?? 0) only go forward: \(planned.steps)")
        #expect(planned.record.planned && planned.record.step == .done && planned.record.target == p2)
        let answer = try await asked.value
        #expect(answer.id == planned.record.id && answer.step == .done, "POST /v1/failover answers the finished move")
        let moved = try await api.status()
        #expect(moved.processors.first { $0.name == p2 }?.personality == "web")
        #expect(moved.processors.first { $0.name == p1 }?.role == "hot-standby", "a planned move's source is a standby again")
        try await expectAnswers(back, on: p2)

        // While p1 boots again as a hot standby (a TCG boot takes most of the CPU), the new
        // carrier is healthy and must stay so: seen here once, its heartbeats fell silent ~3 s
        // after the move and serve moved web back. Watched until p1's boot is over.
        let settled = try #require(events.lastID)
        try await waitUntil("\(p1) running again in /v1/status", within: .seconds(30), every: .milliseconds(200)) {
            try await api.status().processors.first { $0.name == p1 }?.state == "running"
        }
        try await Task.sleep(for: .seconds(12))
        let quiet = try await events.waitFor("the events after the planned move", within: .seconds(1)) { _ in true }
            .filter { ($0.id ?? 0) > settled && $0.processor == p2 && $0.kind == .detection }
        // Its adapters may be reported unreachable meanwhile (its replies can be held that long); it must not be declared.
        #expect(quiet.isEmpty, "\(p2), the new carrier, was not declared failed while \(p1) booted: \(quiet.map(\.detail))")
        #expect(try await api.moves(limit: 5).filter { $0.personality == "web" }.count == 1, "web was not moved again")

        // A crash: p2's QEMU killed from outside. Serve detects it, moves web back to p1 (booted
        // again as a hot standby after the planned move), and the API tells the story.
        try await events.waitUntilWatching(p2, within: .seconds(60))
        let beforeCrash = try #require(events.lastID)
        let pid = try #require(QEMUProcess.pid(of: p2), "QEMU of \(p2) runs")
        #expect(kill(pid, SIGKILL) == 0)
        let crash = try await followMove(of: "web", after: planned.record.id ?? 0, api, within: .seconds(90))
        #expect(!crash.record.planned && crash.record.step == .done && crash.record.target == p1)
        #expect(crash.record.reason.hasPrefix("hypervisor"), "declared from the QEMU process: \(crash.record.reason)")

        // The event stream, followed since before the first move: detection, then each step, in order.
        let story = try await events.waitFor("web's second move done on the stream", within: .seconds(10)) { seen in
            seen.contains { $0.kind == .step && $0.personality == "web" && $0.detail.hasPrefix("done:") && ($0.id ?? 0) > beforeCrash }
        }.filter { ($0.id ?? 0) > beforeCrash }
        let detection = try #require(story.firstIndex { $0.kind == .detection && $0.processor == p2 }, "a detection of \(p2): \(story)")
        #expect(story[detection].detail.contains("declared failed (hypervisor)"))
        let steps = story[detection...].filter { $0.kind == .step && $0.personality == "web" }.map { $0.detail.prefix { $0 != ":" } }
        #expect(steps == ["standby-chosen", "fenced", "attached", "announced", "answered", "done"], "\(story.map(\.detail))")
        #expect(story.filter { $0.kind == .step }.allSatisfy { ($0.id ?? 0) > (story[detection].id ?? 0) }, "no step before the detection")
        #expect(story.map { $0.id ?? 0 } == story.map { $0.id ?? 0 }.sorted(), "events arrive in the order recorded")

        let after = try await api.status()
        #expect(after.processors.map { "\($0.name) \($0.role) \($0.personality ?? "-")" } == ["\(p1) active web", "\(p2) failed -"])
        #expect(after.moving.isEmpty, "no move unfinished")
        try await expectAnswers(back, on: p1)

        // The metrics, parsed as a scraper does: one declaration by the QEMU watcher, two moves
        // done, each step timed twice, the standby pool down to none and one processor failed.
        let metrics = try await Self.scrape(api, until: "the failed processor sampled") { $0.value("vp_processors", ["state": "failed"]) == 1 }
        func grew(_ name: String, _ labels: [String: String]) -> Double {
            (metrics.value(name, labels) ?? 0) - (before.value(name, labels) ?? 0)
        }
        #expect(grew("vp_declarations_total", ["source": "hypervisor"]) == 1)
        #expect(grew("vp_declarations_total", ["source": "libvirt"]) == 0 && grew("vp_declarations_total", ["source": "heartbeat"]) == 0,
                "one declaration, by the QEMU watcher")
        #expect(grew("vp_moves_total", ["outcome": "done"]) == 2, "the planned move and the failover, done")
        for step in ["standby-chosen", "fenced", "attached", "announced", "answered", "done"] {
            #expect(grew("vp_move_step_seconds_count", ["step": step]) == 2, "\(step) timed once per move")
            #expect(grew("vp_move_step_seconds_sum", ["step": step]) > 0, "\(step) took time")
            #expect(grew("vp_move_step_seconds_bucket", ["step": step, "le": "+Inf"]) == 2)
        }
        #expect(metrics.value("vp_processors", ["state": "standby"]) == 0 && metrics.value("vp_processors", ["state": "active"]) == 1)
    }

    /// Until the personality's agent, asked on `address`, reports that it runs on `processor`
    /// with both of web's NICs addressed.
    func expectAnswers(_ address: String, on processor: String) async throws {
        let report = try await AgentHTTPClient(host: address).waitForReport(until: .now + .seconds(60)) { r in
            r.hostname == processor && r.interfaces.filter { !$0.addresses.isEmpty }.count == 2
        }
        #expect(report.hostname == processor, "web answers on \(address) from \(processor)")
    }

    /// The next move of `person` (id above `after`), found in GET /v1/moves and followed through
    /// GET /v1/moves/{id} to its end: the finished record and every step seen on the way.
    func followMove(of person: String, after: Int64, _ api: AdminClient,
                    within limit: Duration = .seconds(60)) async throws -> (record: FailoverRecord, steps: [FailoverStep]) {
        var id: Int64?
        try await waitUntil("a move of \(person) after #\(after) in /v1/moves", within: .seconds(10)) {
            id = try await api.moves(limit: 5).first { $0.personality == person && ($0.id ?? 0) > after }?.id
            return id != nil
        }
        let moveID = try #require(id)
        var steps: [FailoverStep] = []
        var last: FailoverRecord?
        try await waitUntil("move #\(moveID) finished (seen: \(steps))", within: limit, every: .milliseconds(20)) {
            let record = try await api.move(id: moveID)
            if steps.last != record.step { steps.append(record.step) }
            last = record
            return record.step.isFinished
        }
        return (try #require(last), steps)
    }

    /// /metrics scraped and parsed until `condition` holds (the levels are sampled once a second).
    static func scrape(_ api: AdminClient, until what: String,
                       _ condition: @escaping ([PrometheusSample]) -> Bool) async throws -> [PrometheusSample] {
        var samples: [PrometheusSample] = []
        try await waitUntil(what + " in /metrics", within: .seconds(10), every: .milliseconds(200)) {
            samples = try PrometheusText.parse(try await api.metrics())
            return condition(samples)
        }
        return samples
    }
}
}

/// GET /v1/events as a stream (Server-Sent Events) from the journal's start: every event of the
/// platform, then each new one as the daemon records it, in order.
final class EventWatch: Sendable {
    private final class Seen: Sendable { let events = Mutex<[PlatformEvent]>([]) }
    private let seen = Seen()
    private let following: Task<Void, any Error>

    init(_ api: AdminClient) async throws {
        let stream = try await api.followEvents(after: 0)
        let seen = self.seen
        following = Task { for try await event in stream { seen.events.withLock { $0.append(event) } } }
    }

    var lastID: Int64? { seen.events.withLock { $0.last?.id } }

    func stop() { following.cancel() }

    /// Every event seen so far, once `condition` holds for them.
    @discardableResult
    func waitFor(_ what: String, within limit: Duration, _ condition: @escaping @Sendable ([PlatformEvent]) -> Bool) async throws -> [PlatformEvent] {
        try await waitUntil(what, within: limit) { seen.events.withLock { condition($0) } }
        return seen.events.withLock { $0 }
    }

    /// Until serve's last word on what it watches names `processor`: "watching: heartbeats armed
    /// for [a, b]; QEMU process watched for [a, b]" (every address answered once, the QEMU's pidfd held).
    func waitUntilWatching(_ processor: String, within limit: Duration) async throws {
        try await waitFor("serve watching \(processor)", within: limit) { seen in
            guard let last = seen.last(where: { $0.kind == .service && $0.detail.hasPrefix("watching:") }) else { return false }
            let lists = last.detail.split(separator: "[").dropFirst().map { $0.prefix { $0 != "]" }.split(separator: ", ").map(String.init) }
            return lists.count == 2 && lists.allSatisfy { $0.contains(processor) }
        }
    }
}
