import AdminAPI
import ArgumentParser
import CommandOutput
import Foundation
import PlatformHarness

/// `vp-bench api-status`: `GET /v1/status` of a large platform on libvirt's test driver, through
/// the real daemon and a real HTTP client over its Unix socket.
struct APIStatusBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api-status",
        abstract: "Time GET /v1/status of a 1,000-processor platform on the test driver through vpctl serve (bar: p99 ≤ 20 ms).",
        discussion: """
            Starts `vpctl serve` on a generated platform whose host is test:///default, applies it through the \
            daemon's own API (POST /v1/apply: the test driver's objects live in the process that made them, so the \
            daemon must define them itself), then sends --requests GET /v1/status one after another on a \
            keep-alive connection and reports median, p99 and max, and the daemon's CPU per request (its \
            CPU while idle subtracted). serve runs in a network namespace of its own (`unshare --net`): its \
            heartbeats go to the generated platform's addresses, which exist nowhere, and must not leave the machine; \
            they run every 10 s instead of the default 100 ms (a prober thread per processor at 10 rounds/s is \
            the daemon's own load, not the status route's).
            """)

    @Option(help: "Processors in the generated platform.") var processors = 1000
    @Option(help: "VLANs.") var vlans = 200
    @Option(help: "Volumes.") var volumes = 2000
    @Option(help: "Requests measured.") var requests = 2000
    @OptionGroup var output: OutputOptions

    struct Result: Encodable {
        var processors: Int, requests: Int
        var latencyMs: Timings
        var responseBytes: Int
        var daemonCPUMsPerRequest: Double
        var daemonIdleCPUPercent: Double
        var daemonThreads: Int
    }

    func run() async throws {
        let name = "apistatus"
        let generator = ControlPlaneDefinition(processors: processors, vlans: vlans, volumes: volumes)
        // Heartbeats at their slowest: the addresses exist nowhere, and at the default 100 ms a prober
        // thread per processor (900 at real-time priority) takes the daemon's CPU from what is measured.
        let yaml = generator.yaml(platform: name) + "failover:\n  heartbeat: { intervalMs: 10000, timeoutMs: 1000 }\n"
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vp-bench-api-status-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("\(name).yaml").path
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        guard case .unixSocket(let socket) = AdminServer.Listen.defaultSocket(platform: name) else { throw BenchError("no default socket") }

        let serve = try ServeChild(file: file, state: dir.appendingPathComponent("state.sqlite").path,
                                   launcher: ["/usr/bin/unshare", "--net"], log: dir.appendingPathComponent("serve.log").path)
        let client = AdminAPIClient(socket: socket)
        do {
            let result = try await measure(serve: serve, client: client, yaml: yaml)
            await client.shutdown()
            await serve.stop()
            try report(result)
        } catch {
            await client.shutdown()
            await serve.stop()
            let log = (try? String(contentsOfFile: serve.log, encoding: .utf8)) ?? ""
            throw BenchError("\(error)\nlast lines of vpctl serve's log:\n\(log.split(separator: "\n").suffix(20).joined(separator: "\n"))")
        }
    }

    func measure(serve: ServeChild, client: AdminAPIClient, yaml: String) async throws -> Result {
        try await client.waitUntilAnswering(within: .seconds(60), while: { serve.isRunning })
        Progress.say("vpctl serve (pid \(serve.pid)) answers; applying \(processors) processors through POST /v1/apply")
        let applied = try await client.post("/v1/apply", body: yaml, contentType: "application/yaml")
        guard applied.status == 200 else { throw BenchError("POST /v1/apply answered \(applied.status): \(applied.text)") }
        let first = try await client.get("/v1/status")
        let status = try JSONDecoder().decode(StatusShape.self, from: first.body)
        guard status.processors.count == processors else {
            throw BenchError("GET /v1/status lists \(status.processors.count) processors, the platform has \(processors)")
        }
        let missing = status.processors.filter { $0.state == "missing" }.map(\.name)
        guard missing.isEmpty else { throw BenchError("after apply, \(missing.count) processors are missing, e.g. \(missing.prefix(3))") }

        // The daemon's own background (heartbeat probers, service loop) over a quiet spell, to
        // tell it apart from what the requests cost.
        let quiet = Duration.seconds(5)
        let idleStart = try ProcessCPU.read(pid: serve.pid)
        try await Task.sleep(for: quiet)
        let idleEnd = try ProcessCPU.read(pid: serve.pid)
        let idleShare = (idleEnd.cpuSeconds - idleStart.cpuSeconds) / quiet.seconds

        for _ in 0..<20 { _ = try await client.get("/v1/status") }
        var latency = Timings(samples: [])
        latency.samples.reserveCapacity(requests)
        let clock = ContinuousClock()
        let before = try ProcessCPU.read(pid: serve.pid)
        let started = clock.now
        for i in 1...requests {
            var reply: AdminAPIClient.Reply?
            latency.samples.append(try await clock.measure { reply = try await client.get("/v1/status") }.seconds * 1000)
            guard reply?.status == 200 else { throw BenchError("request \(i): GET /v1/status answered \(reply?.status ?? 0)") }
            if i % 500 == 0 { Progress.say("\(i) requests, median so far \(fmt(latency.median)) ms") }
        }
        let elapsed = (clock.now - started).seconds
        let after = try ProcessCPU.read(pid: serve.pid)
        let perRequest = max(0, after.cpuSeconds - before.cpuSeconds - idleShare * elapsed) / Double(requests) * 1000
        return Result(processors: processors, requests: requests, latencyMs: latency, responseBytes: first.body.count,
                      daemonCPUMsPerRequest: perRequest, daemonIdleCPUPercent: idleShare * 100, daemonThreads: after.threads)
    }

    func report(_ r: Result) throws {
        if output.format == .json { try JSONOutput.print(r); return }
        print("GET /v1/status of \(r.processors) processors on test:///default through vpctl serve's Unix socket, \(r.requests) requests one after another (\(r.responseBytes) bytes each)")
        var table = Table("MEASURE", "MEDIAN", "P99", "MAX", "BAR")
        table.add("latency (ms)", fmt(r.latencyMs.median), fmt(r.latencyMs.p99), fmt(r.latencyMs.max), "p99 ≤ 20")
        print(table.render())
        print("daemon CPU per request \(fmt(r.daemonCPUMsPerRequest)) ms (idle background \(fmt(r.daemonIdleCPUPercent)) % of a core subtracted); \(r.daemonThreads) threads")
    }

    func fmt(_ v: Double) -> String { String(format: "%.2f", v) }

    /// The part of the status document the bench checks.
    struct StatusShape: Decodable {
        struct Processor: Decodable { var name: String; var state: String }
        var processors: [Processor]
    }
}
