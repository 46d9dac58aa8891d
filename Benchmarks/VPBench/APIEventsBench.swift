import AdminAPI
import AdminClient
import AsyncHTTPClient
import ArgumentParser
import CommandOutput
import Foundation
import PlatformHarness
import StateStore
import Synchronization

/// `vp-bench api-events`: events written into the daemon's state store at a steady rate while
/// followers read `GET /v1/events` as Server-Sent Events; each must get every event once, in order.
struct APIEventsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api-events",
        abstract: "Stream events to followers through vpctl serve's event stream (bar: 1,000 events/s to 10 followers for 60 s, none lost or reordered).",
        discussion: """
            Starts `vpctl serve` on a small platform of libvirt's test driver (never applied: nothing is watched), \
            connects --followers to GET /v1/events (Accept: text/event-stream), then records --rate events a second \
            for --seconds into the daemon's state store from this process (another handle on the same file, as \
            `vpctl failover` beside serve writes it). Each follower checks that every event id is the one after the \
            last and that the writer's events come each once in order; the first follower disconnects halfway and \
            resumes with Last-Event-ID after a second. At the end each follower's ids are compared with the store's. \
            Reports the delivery latency (record → received by the follower) and the losses, which must be none.
            """)

    @Option(help: "Events recorded per second.") var rate = 1000
    @Option(help: "Seconds of writing.") var seconds = 60
    @Option(help: "Followers of the stream.") var followers = 10
    @OptionGroup var output: OutputOptions

    struct Result: Encodable {
        var rate: Int, seconds: Int, followers: Int
        var written: Int
        var achievedRate: Double
        var deliveryLatencyMs: Timings
        var notReceived: Int
        var problems: [String]
        var resumedAfterID: Int64?
        var daemonCPUPercent: Double
    }

    func run() async throws {
        let name = "apievents"
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vp-bench-api-events-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("\(name).yaml").path
        try """
        platform: \(name)
        hosts: [{ name: local, uri: "test:///default" }]
        processors:
          vcpus: 1
          memoryMiB: 128
          members: [{ name: \(name)-p0, host: local }, { name: \(name)-p1, host: local }]
        vlans: [{ name: v0, id: 1, subnet: 10.99.0.0/24 }]
        personalities: [{ name: s0, nics: [{ vlan: v0 }] }]
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let state = dir.appendingPathComponent("state.sqlite").path
        guard case .unixSocket(let socket) = AdminServer.Listen.defaultSocket(platform: name) else { throw BenchError("no default socket") }
        let serve = try ServeChild(file: file, state: state, log: dir.appendingPathComponent("serve.log").path)
        let client = AdminAPIClient(socket: socket)
        do {
            try await client.waitUntilAnswering(within: .seconds(60), while: { serve.isRunning })
            let result = try await measure(serve: serve, client: client, store: try SQLitePlatformStore(path: state))
            await client.shutdown()
            await serve.stop()
            try report(result)
            if result.notReceived > 0 || !result.problems.isEmpty { throw ExitCode.failure }
        } catch {
            await client.shutdown()
            await serve.stop()
            throw error
        }
    }

    func measure(serve: ServeChild, client: AdminAPIClient, store: SQLitePlatformStore) async throws -> Result {
        let total = rate * seconds
        let streamTimeout = Duration.seconds(seconds + 120)
        // Connected before the first event is written: a stream without Last-Event-ID starts after the last event.
        var streams: [EventFollower] = []
        for i in 0..<followers {
            streams.append(EventFollower(index: i, client: client, response: try await client.eventStream(lastEventID: nil, timeout: streamTimeout)))
        }
        let baseline = try store.events(limit: 1).last?.id ?? 0
        let cpuBefore = try ProcessCPU.read(pid: serve.pid)
        let clock = ContinuousClock()
        let started = clock.now
        let writer = EventWriter(store: store, rate: rate, total: total)
        writer.start()
        let halfway = Duration.seconds(Double(seconds) / 2)
        let outcomes = try await withThrowingTaskGroup(of: EventFollower.Outcome.self) { group in
            for follower in streams {
                group.addTask {
                    try await follower.follow(until: total - 1, disconnectAfter: follower.index == 0 ? halfway : nil,
                                              streamTimeout: streamTimeout, giveUpAt: started + .seconds(seconds + 30))
                }
            }
            var all: [EventFollower.Outcome] = []
            for try await o in group { all.append(o) }
            return all.sorted { $0.index < $1.index }
        }
        let written = try await writer.finished()
        let elapsed = (clock.now - started).seconds
        let cpuAfter = try ProcessCPU.read(pid: serve.pid)

        // What the store holds is the truth each follower is held to.
        var truth: [Int64] = []
        var after = baseline
        while true {
            let page = try store.events(after: after, limit: 10_000)
            guard let last = page.last?.id else { break }
            truth += page.compactMap(\.id)
            after = last
        }
        var problems: [String] = []
        // Not received by the end: lost, or still on its way (a gap or a repeat is a problem of its own).
        var lost = 0
        var latencies = Timings(samples: [])
        for o in outcomes {
            let got = o.ledger.ids.filter { $0 > baseline }
            let expected = Array(truth.prefix(got.count))
            if got != expected { problems.append("follower \(o.index): ids differ from the store's from index \(got.indices.first { $0 >= expected.count || got[$0] != expected[$0] } ?? got.count)") }
            let mine = o.ledger.verdict(written: written)
            problems += mine.map { "follower \(o.index): \($0)" }
            lost += written - Set(o.ledger.sequences).count
            latencies.samples += o.latenciesMs
        }
        return Result(rate: rate, seconds: seconds, followers: followers, written: written, achievedRate: Double(written) / writer.writingSeconds,
                      deliveryLatencyMs: latencies, notReceived: lost, problems: problems, resumedAfterID: outcomes.first?.resumedAfter,
                      daemonCPUPercent: (cpuAfter.cpuSeconds - cpuBefore.cpuSeconds) / elapsed * 100)
    }

    func report(_ r: Result) throws {
        if output.format == .json {
            var brief = r
            brief.deliveryLatencyMs.samples = []
            try JSONOutput.print(brief)
            return
        }
        print("\(r.written) events written at \(String(format: "%.0f", r.achievedRate))/s (asked \(r.rate)/s for \(r.seconds) s) to \(r.followers) followers of GET /v1/events; follower 0 resumed with Last-Event-ID \(r.resumedAfterID.map(String.init) ?? "-")")
        var table = Table("MEASURE", "MEDIAN", "P99", "MAX", "BAR")
        table.add("record → received (ms)", fmt(r.deliveryLatencyMs.median), fmt(r.deliveryLatencyMs.p99), fmt(r.deliveryLatencyMs.max), "-")
        table.add("writer's events not received by the end, all followers", "\(r.notReceived)", "", "", "0")
        print(table.render())
        print("daemon CPU while streaming: \(fmt(r.daemonCPUPercent)) % of a core")
        for p in r.problems.prefix(30) { print("problem: \(p)") }
    }

    func fmt(_ v: Double) -> String { String(format: "%.2f", v) }
}

/// CLOCK_MONOTONIC in nanoseconds: what the writer stamps on each event and the followers read.
func monotonicNanoseconds() -> Int64 {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_nsec)
}

/// Records `total` events at `rate` per second on a thread of its own (the store blocks), each
/// saying its sequence number and when it was recorded: "api-events 17 at 123456789".
final class EventWriter: @unchecked Sendable {
    let store: any PlatformStore
    let rate: Int, total: Int
    private let done = Mutex<Result<Int, any Error>?>(nil)
    private(set) var writingSeconds = 0.0

    init(store: any PlatformStore, rate: Int, total: Int) { self.store = store; self.rate = rate; self.total = total }

    func start() {
        Thread.detachNewThread { [self] in
            let start = monotonicNanoseconds()
            let outcome = Result<Int, any Error> {
                for i in 0..<total {
                    let due = start + Int64(i) * 1_000_000_000 / Int64(rate)
                    let wait = due - monotonicNanoseconds()
                    if wait > 0 {
                        var t = timespec(tv_sec: Int(wait / 1_000_000_000), tv_nsec: Int(wait % 1_000_000_000))
                        nanosleep(&t, nil)
                    }
                    try store.record(PlatformEvent(kind: .service, detail: EventWriter.detail(i, at: monotonicNanoseconds())))
                }
                return total
            }
            writingSeconds = Double(monotonicNanoseconds() - start) / 1e9
            done.withLock { $0 = outcome }
        }
    }

    /// The events written, once all are.
    func finished() async throws -> Int {
        while true {
            if let outcome = done.withLock({ $0 }) { return try outcome.get() }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    static let marker = "api-events "
    static func detail(_ sequence: Int, at ns: Int64) -> String { "\(marker)\(sequence) at \(ns)" }

    /// The sequence number and time stamp in an event's JSON, if the writer wrote it.
    static func parse(data: String) -> (sequence: Int, ns: Int64)? {
        guard let start = data.range(of: marker) else { return nil }
        let rest = data[start.upperBound...]
        let numbers = rest.split(maxSplits: 2, omittingEmptySubsequences: true, whereSeparator: { !$0.isNumber })
        guard numbers.count >= 2, let sequence = Int(numbers[0]), let ns = Int64(numbers[1]) else { return nil }
        return (sequence, ns)
    }
}

/// One follower of the stream: parses it, checks it (`EventFollowerLedger`), times each of the
/// writer's events from its record to its arrival.
final class EventFollower: @unchecked Sendable {
    let index: Int
    let client: AdminAPIClient
    private var response: HTTPClientResponse

    struct Outcome: Sendable {
        var index: Int
        var ledger: EventFollowerLedger
        var latenciesMs: [Double]
        var resumedAfter: Int64?
    }

    init(index: Int, client: AdminAPIClient, response: HTTPClientResponse) {
        self.index = index; self.client = client; self.response = response
    }

    /// Reads until the writer's event `last` came (or `giveUpAt`); with `disconnectAfter`, drops the
    /// connection that long after starting, waits a second and resumes with Last-Event-ID.
    func follow(until last: Int, disconnectAfter: Duration?, streamTimeout: Duration, giveUpAt: ContinuousClock.Instant) async throws -> Outcome {
        var outcome = Outcome(index: index, ledger: EventFollowerLedger(), latenciesMs: [], resumedAfter: nil)
        var dropAt = disconnectAfter.map { ContinuousClock.now + $0 }
        while true {
            let finished = try await read(&outcome, until: last, dropAt: dropAt, giveUpAt: giveUpAt)
            if finished || ContinuousClock.now >= giveUpAt { return outcome }
            // Dropped on purpose: resume where this follower stopped.
            dropAt = nil
            try await Task.sleep(for: .seconds(1))
            outcome.resumedAfter = outcome.ledger.lastID
            response = try await client.eventStream(lastEventID: outcome.ledger.lastID, timeout: streamTimeout)
        }
    }

    /// True once `last` came; false when the connection was dropped at `dropAt`.
    private func read(_ outcome: inout Outcome, until last: Int, dropAt: ContinuousClock.Instant?, giveUpAt: ContinuousClock.Instant) async throws -> Bool {
        var parser = ServerSentEventParser()
        for try await chunk in response.body {
            let now = monotonicNanoseconds()
            for event in parser.feed(chunk.readableBytesView) {
                guard let raw = event.id, let id = Int64(raw) else { continue }
                let written = EventWriter.parse(data: event.data)
                outcome.ledger.received(id: id, sequence: written?.sequence)
                if let written {
                    outcome.latenciesMs.append(Double(now - written.ns) / 1e6)
                    if written.sequence == last { return true }
                }
            }
            if let dropAt, ContinuousClock.now >= dropAt { return false }
            if ContinuousClock.now >= giveUpAt { return true }
        }
        throw BenchError("follower \(index): the event stream ended after id \(outcome.ledger.lastID.map(String.init) ?? "none")")
    }
}
