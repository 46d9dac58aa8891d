import AgentProtocol
import ArgumentParser
import CommandOutput
import Failover
import Foundation
import PlatformHarness

/// `vp-bench daemon-idle`: what `vpctl serve` costs while nothing happens, on real guests.
struct DaemonIdleBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon-idle",
        abstract: "CPU of vpctl serve idle with 4 monitored processors on real guests (bar: ≤ 2 % of one core).",
        discussion: """
            Brings up a platform of its own on qemu:///system (4 personalities with two NICs each on 4 processors, \
            a cold standby), starts `vpctl serve` at the product's defaults once every address answers, lets it settle, \
            then reads its CPU time (utime + stime from /proc/<pid>/stat) over --seconds and reports it as a share of \
            one core, with its threads and the CPU of each kind of thread. Removes its platform at the end. \
            Boots real guests: run it under `flock /tmp/vp-e2e.lock`.
            """)

    @Option(help: "Seconds measured.") var seconds = 60
    @Option(help: "Seconds the daemon runs before the measure (start-up work done).") var settle = 10
    @Option(help: "Directory of the processor image.") var image: String?
    @OptionGroup var output: OutputOptions

    struct ThreadShare: Encodable { var name: String; var threads: Int; var cpuPercent: Double }
    struct Result: Encodable {
        var seconds: Int
        var monitoredProcessors: Int
        var heartbeatAddresses: Int
        var cpuPercentOfOneCore: Double
        var threads: Int
        var byThread: [ThreadShare]
    }

    static let processors = 4

    func run() async throws {
        BenchLogging.bootstrap()
        let name = "vpidle"
        let members = (1...Self.processors + 1).map { "{ name: \(name)-\($0), host: local }" }.joined(separator: ", ")
        let personalities = (1...Self.processors).map { "  - { name: idle\($0), nics: [{ vlan: front }, { vlan: back }] }" }.joined(separator: "\n")
        let bench = try BenchPlatform(name: name, definition: """
        platform: \(name)
        hosts: [{ name: local, uri: "qemu:///system", domainType: auto }]
        processors:
          vcpus: 1
          memoryMiB: 160
        \(image.map { "  image: \($0)" } ?? "")
          members: [\(members)]
        vlans:
          - { name: front, id: 100, subnet: 10.223.1.0/24 }
          - { name: back, id: 200, subnet: 10.223.2.0/24 }
        personalities:
        \(personalities)
        standby: { mode: cold }
        """)
        do {
            let result = try await measure(bench)
            await bench.down()
            try report(result)
        } catch {
            await bench.down()
            throw error
        }
    }

    func measure(_ bench: BenchPlatform) async throws -> Result {
        Progress.say("bringing up \(bench.name) on qemu:///system")
        try await bench.engine.apply(cause: "bench daemon-idle")
        let view = try PlatformView(definition: bench.engine.definition, store: bench.store)
        let carriers = view.bindings.values.sorted()
        for p in carriers { try await bench.waitUntilBooted(p, since: 0, within: .seconds(180)) }
        let addresses = view.bindings.keys.flatMap { view.addresses(of: $0) }
        for a in addresses { try await HeartbeatProbe.waitForReply(a.ip, within: .seconds(120)) }

        let before = try bench.store.events(limit: 1).last?.id ?? 0
        let serve = try bench.platform.startServe()
        try await serve.waitUntilStarted(store: bench.store, after: before)
        try await bench.platform.waitUntilWatching(carriers, within: .seconds(60))
        Progress.say("vpctl serve (pid \(serve.pid)) watches \(carriers.joined(separator: ", ")); settling \(settle) s, then measuring \(seconds) s")
        try await Task.sleep(for: .seconds(settle))

        let clock = ContinuousClock()
        let threadsBefore = ProcessCPU.threads(pid: serve.pid)
        let start = try ProcessCPU.read(pid: serve.pid)
        let started = clock.now
        try await Task.sleep(for: .seconds(seconds))
        let end = try ProcessCPU.read(pid: serve.pid)
        let elapsed = (clock.now - started).seconds
        let threadsAfter = ProcessCPU.threads(pid: serve.pid)
        guard serve.isRunning else { throw BenchError("vpctl serve exited during the measure; see \(serve.log)") }
        let declared = try bench.store.failovers().count
        guard declared == 0 else { throw BenchError("\(declared) processors were declared failed while idle; see `vpctl events`") }

        let shares = ProcessCPU.byName(from: threadsBefore, to: threadsAfter).map {
            ThreadShare(name: $0.name, threads: $0.threads, cpuPercent: $0.cpuSeconds / elapsed * 100)
        }
        return Result(seconds: seconds, monitoredProcessors: carriers.count, heartbeatAddresses: addresses.count,
                      cpuPercentOfOneCore: (end.cpuSeconds - start.cpuSeconds) / elapsed * 100, threads: end.threads, byThread: shares)
    }

    func report(_ r: Result) throws {
        if output.format == .json { try JSONOutput.print(r); return }
        print("vpctl serve idle for \(r.seconds) s, \(r.monitoredProcessors) monitored processors (\(r.heartbeatAddresses) heartbeat addresses), \(r.threads) threads")
        var table = Table("MEASURE", "VALUE", "BAR")
        table.add("CPU, % of one core", String(format: "%.2f", r.cpuPercentOfOneCore), "≤ 2")
        print(table.render())
        var threads = Table("THREAD", "COUNT", "CPU %")
        for s in r.byThread.prefix(10) { threads.add(s.name, "\(s.threads)", String(format: "%.2f", s.cpuPercent)) }
        print(threads.render())
    }
}
