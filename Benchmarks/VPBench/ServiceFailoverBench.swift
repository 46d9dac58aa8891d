import AgentProtocol
import ArgumentParser
import CommandOutput
import Failover
import Foundation
import Hosts
import Logging
import NetLab
import PlatformEngine
import PlatformHarness
import StateStore

/// `vp-bench service-failover`: the error window at a service IP while one of its processors is
/// killed under constant load from many clients.
struct ServiceFailoverBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "service-failover",
        abstract: "Measure requests failing at a service IP while one processor is killed under load (bar: only requests to it, only until declaration).",
        discussion: """
            Brings up a platform of its own (three processors serving one TCP service IP, one hot standby) and a client \
            namespace with many source addresses, runs the failover service in this process, and repeats: constant load \
            (a new connection per request), SIGKILL one member's QEMU, wait for the move, repair. Removes everything at the end.
            """)

    @Option(help: "Trials (kills).") var trials = 5
    @Option(help: "Client source addresses.") var clients = 48
    @Option(help: "Client threads.") var workers = 8
    @Option(help: "Seconds of load per trial (the kill comes 2 s in).") var seconds = 10
    @OptionGroup var output: OutputOptions

    struct Trial: Encodable {
        var victim: String
        var requests: Int
        var killToDeclaredMs: Double
        /// From the declaration until the service's table without the victim is in the kernel.
        var declaredToSwappedMs: Double
        var failed: Int
        var failedAfterDeclaration: Int
        var failedOnSurvivors: Int
        var survivorsMoved: Int
        /// From the kill to the start of the last request that failed (0: none failed).
        var errorWindowMs: Double
        /// Slowest successful request to the victim's clients that started after the declaration.
        var slowestAfterDeclarationMs: Double
    }

    struct Result: Encodable {
        var trials: [Trial]
        var killToDeclaredMs: Timings
        var declaredToSwappedMs: Timings
        var errorWindowMs: Timings
        var failedPerTrial: Timings
        var failedAfterDeclaration: Int
        var failedOnSurvivors: Int
        var survivorsMoved: Int
        var barMet: Bool
    }

    static let vip = "10.216.9.1"

    static let name = "vpbenchs"
    static let definition = DefinitionYAML(platform: name, processors: (1...4).map { "\(name)-\($0)" }).yaml("""
        vlans: [{ name: front, id: 100, subnet: 10.216.1.0/24 }]
        personalities:
          - { name: w1, nics: [{ vlan: front }] }
          - { name: w2, nics: [{ vlan: front }] }
          - { name: w3, nics: [{ vlan: front }] }
        standby: { mode: hot, count: 1 }
        services: [{ name: web, address: \(Self.vip), port: 80, protocol: tcp, members: [w1, w2, w3] }]
        """)

    func run() async throws {
        BenchLogging.bootstrap()
        guard ClientNetwork.hostForwards() else { throw ValidationError("IPv4 forwarding is off: sysctl -w net.ipv4.ip_forward=1") }
        let name = Self.name
        let platform = try OwnPlatform(name: name, definition: Self.definition)
        let engine = platform.engine
        let net = try ClientNetwork.create(name: "vpbsf", subnet: "10.216.50", clients: clients)
        defer { net.remove() }
        do {
            Progress.say("bringing up \(name)")
            try await engine.apply(cause: "bench service-failover")
            for a in try engine.store.allocations().values { try await HeartbeatProbe.waitForReply(a.ip, within: .seconds(120)) }
            try await Console.waitUntilBooted(platform: name, processor: "\(name)-4", since: 0)
            platform.startService(logger: Logger(label: "bench.serve"))
            try await platform.waitUntilWatching(try engine.store.bindings().values.sorted())
            var results: [Trial] = []
            for i in 0..<trials {
                let t = try await trial(i, engine: engine, failover: platform.failover, net: net, platform: name)
                Progress.say("trial \(i + 1): killed \(t.victim); declared after \(fmt(t.killToDeclaredMs)) ms, its table swapped \(fmt(t.declaredToSwappedMs)) ms later; \(t.failed)/\(t.requests) requests failed (\(t.failedAfterDeclaration) after the declaration, \(t.failedOnSurvivors) on survivors), error window \(fmt(t.errorWindowMs)) ms, slowest after declaration \(fmt(t.slowestAfterDeclarationMs)) ms")
                results.append(t)
            }
            let result = Result(
                trials: results, killToDeclaredMs: Timings(samples: results.map(\.killToDeclaredMs)),
                declaredToSwappedMs: Timings(samples: results.map(\.declaredToSwappedMs)),
                errorWindowMs: Timings(samples: results.map(\.errorWindowMs)), failedPerTrial: Timings(samples: results.map { Double($0.failed) }),
                failedAfterDeclaration: results.map(\.failedAfterDeclaration).reduce(0, +),
                failedOnSurvivors: results.map(\.failedOnSurvivors).reduce(0, +),
                survivorsMoved: results.map(\.survivorsMoved).reduce(0, +),
                barMet: results.allSatisfy { $0.failedAfterDeclaration == 0 && $0.failedOnSurvivors == 0 })
            if output.format == .json { try JSONOutput.print(result) } else { report(result) }
        } catch {
            await platform.tearDown(cause: "bench service-failover")
            throw error
        }
        if let error = await platform.tearDown(cause: "bench service-failover") { throw error }
    }

    func trial(_ i: Int, engine: PlatformEngine, failover: FailoverEngine, net: ClientNetwork, platform: String) async throws -> Trial {
        let store = engine.store
        let first = try LoadClient.once(namespace: net.namespace, sources: net.clients, target: Self.vip, port: 80)
        let owner = Dictionary(uniqueKeysWithValues: first.compactMap { o in o.server.map { (o.source, $0) } })
        guard owner.count == net.clients.count else { throw ValidationError("not every client is served before the kill: \(first.filter { !$0.ok }.prefix(3))") }
        let victim = try requireValue(try store.bindings()["w\(i % 3 + 1)"], "w\(i % 3 + 1) is placed")
        let before = try store.failovers().last?.id ?? 0
        let (sources, namespace, workers, seconds) = (net.clients, net.namespace, self.workers, self.seconds)
        let load = Task.detached {
            try LoadClient.steady(namespace: namespace, sources: sources, target: Self.vip, port: 80, workers: workers,
                                  pause: .milliseconds(10), duration: .seconds(seconds), timeout: .seconds(3))
        }
        try await Task.sleep(for: .seconds(2))
        guard let pid = QEMUProcess.pid(of: victim) else { throw ValidationError("the QEMU of \(victim) does not run") }
        let killedAt = Date()
        kill(pid, SIGKILL)
        let outcomes = try await load.value
        guard let move = try store.failovers().last(where: { ($0.id ?? 0) > before && $0.source == victim }), let id = move.id else {
            throw ValidationError("\(victim) was not declared failed")
        }
        let declared = move.declaredAt.timeIntervalSince1970
        let swap = try store.events(limit: 200).first { $0.kind == .serviceTable && $0.time >= move.declaredAt && $0.detail.contains(" out") }
        let failed = outcomes.filter { !$0.ok }
        let victims = outcomes.filter { owner[$0.source] == victim && $0.ok && $0.startedAt > declared }
        let trial = Trial(
            victim: victim, requests: outcomes.count, killToDeclaredMs: move.declaredAt.timeIntervalSince(killedAt) * 1000,
            declaredToSwappedMs: swap.map { $0.time.timeIntervalSince(move.declaredAt) * 1000 } ?? -1,
            failed: failed.count, failedAfterDeclaration: failed.filter { $0.startedAt > declared }.count,
            failedOnSurvivors: failed.filter { owner[$0.source] != victim }.count,
            survivorsMoved: outcomes.filter { $0.ok && owner[$0.source] != victim && $0.server != owner[$0.source] }.count,
            errorWindowMs: failed.map { ($0.startedAt - killedAt.timeIntervalSince1970) * 1000 }.max() ?? 0,
            slowestAfterDeclarationMs: victims.map(\.milliseconds).max() ?? 0)
        // Let the move finish, then return the victim to the pool as the next hot standby.
        let deadline = ContinuousClock.now + .seconds(120)
        while try store.failover(id: id)?.step != .done {
            guard ContinuousClock.now < deadline else { throw ValidationError("the move off \(victim) did not finish in 120 s") }
            try await Task.sleep(for: .milliseconds(100))
        }
        try await Administration(engine: failover).repairAndWaitForBoot(victim, platform: platform, who: "bench")
        try await Task.sleep(for: .seconds(1))
        return trial
    }

    func report(_ r: Result) {
        var table = Table("MEASURE", "MEDIAN", "P99", "BAR")
        table.add("kill → declared (ms)", fmt(r.killToDeclaredMs.median), fmt(r.killToDeclaredMs.p99), "")
        table.add("declared → table without it in the kernel (ms)", fmt(r.declaredToSwappedMs.median), fmt(r.declaredToSwappedMs.p99), "")
        table.add("failed requests per trial", fmt(r.failedPerTrial.median), fmt(r.failedPerTrial.p99), "")
        table.add("error window: kill → last failed request (ms)", fmt(r.errorWindowMs.median), fmt(r.errorWindowMs.p99), "")
        print(table.render())
        print("requests failed after the declaration: \(r.failedAfterDeclaration); failed on surviving processors: \(r.failedOnSurvivors); clients of survivors moved: \(r.survivorsMoved)")
        print(r.barMet ? "bar met: only requests to the failed processor failed, and only until declaration" : "BAR MISSED")
    }

    func fmt(_ v: Double) -> String { String(format: "%.0f", v) }
}

private func requireValue<T>(_ value: T?, _ what: String) throws -> T {
    guard let value else { throw ValidationError("expected: \(what)") }
    return value
}
