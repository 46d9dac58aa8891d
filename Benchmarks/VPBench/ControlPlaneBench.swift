import ArgumentParser
import CommandOutput
import Foundation
import Libvirt
import PlatformEngine

struct ControlPlaneBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "control-plane",
        abstract: "Plan and apply a large platform on libvirt's test driver, trial after trial (bars: 1,000 processors' no-op re-apply ≤ 0.5 s p99 with no growth over 20 trials; 10,000 processors and 2,000 VLANs applied ≤ 5 s).",
        discussion: "Each trial is a platform of its own (plan, apply, no-op re-apply, destroy), each measure a new engine as a new vpctl run would be. After each trial the test driver must hold what it held before. Growth is the least-squares slope of a measure's time over the trials, and the first trial against the last.")

    @Option(help: "Processors in the generated platform.") var processors = 1000
    @Option(help: "VLANs.") var vlans = 200
    @Option(help: "Volumes.") var volumes = 2000
    @Option(help: "Repetitions.") var trials = 20
    @OptionGroup var output: OutputOptions

    struct Measure: Encodable {
        var seconds: Timings
        var cpuSeconds: Timings
        var growth: TrialGrowth
    }

    struct Result: Encodable {
        var processors: Int, vlans: Int, volumes: Int, trials: Int
        var plan: Measure, apply: Measure, noopApply: Measure
    }

    func validate() throws {
        guard processors >= 1, vlans >= 2, volumes >= 0, trials >= 1 else {
            throw ValidationError("--processors and --trials must be at least 1, --vlans at least 2 (each personality has NICs on two), --volumes at least 0")
        }
    }

    func run() async throws {
        var plan = Samples(), apply = Samples(), noop = Samples()
        // The test driver forgets its objects when its last connection closes: keep one open so
        // that each measured run (a new engine, as a new `vpctl` process would be) sees the last.
        let keeper = try Connection(uri: "test:///default")
        defer { keeper.close() }
        let before = try DriverObjects(keeper)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vp-bench-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for trial in 1...trials {
            let name = "bench\(trial)"
            let file = dir.appendingPathComponent("\(name).yaml").path
            try ControlPlaneDefinition(processors: processors, vlans: vlans, volumes: volumes).yaml(platform: name)
                .write(toFile: file, atomically: true, encoding: .utf8)
            let state = dir.appendingPathComponent("\(name).sqlite").path
            // Each measure includes reading and validating the file, as a `vpctl` run would.
            var changes = 0
            try await plan.measure { changes = try await PlatformEngine(file: file, statePath: state).plan().changes.count }
            try await apply.measure { try await PlatformEngine(file: file, statePath: state).apply(cause: "bench") }
            var leftover = 0
            try await noop.measure {
                leftover = try await PlatformEngine(file: file, statePath: state).apply(cause: "bench").changes.count
            }
            guard leftover == 0 else { throw BenchError("re-apply of trial \(trial) still changed \(leftover) objects") }
            Progress.say("trial \(trial): plan \(fmt(plan.wall.last!)) s (\(changes) changes), apply \(fmt(apply.wall.last!)) s, "
                + "no-op apply \(fmt(noop.wall.last!)) s (CPU \(fmt(plan.cpu.last!)), \(fmt(apply.cpu.last!)), \(fmt(noop.cpu.last!)) s)")
            try await PlatformEngine(file: file, statePath: state).destroy(cause: "bench")
            // A trial that leaves objects behind makes the next one slower: that is the bench's fault, not a measure.
            let after = try DriverObjects(keeper)
            guard after == before else { throw BenchError("trial \(trial) left objects in test:///default: \(after.difference(from: before))") }
        }
        let result = Result(processors: processors, vlans: vlans, volumes: volumes, trials: trials,
                            plan: plan.measure, apply: apply.measure, noopApply: noop.measure)
        if output.format == .json { try JSONOutput.print(result); return }
        var table = Table("MEASURE", "MEDIAN (s)", "P99 (s)", "CPU MEDIAN (s)", "FIRST (s)", "LAST (s)", "SLOPE (ms/trial)", "BAR (s)")
        for (label, m, bar) in [("plan", result.plan, "-"), ("full apply", result.apply, "5.0"), ("no-op re-apply", result.noopApply, "0.5")] {
            table.add(label, fmt(m.seconds.median), fmt(m.seconds.p99), fmt(m.cpuSeconds.median), fmt(m.growth.first), fmt(m.growth.last),
                      String(format: "%+.1f", m.growth.slopeSecondsPerTrial * 1000), bar)
        }
        print("\(processors) processors, \(vlans) VLANs, \(volumes) volumes on test:///default, \(trials) trials")
        print(table.render())
    }

    func fmt(_ s: Double) -> String { String(format: "%.3f", s) }

    /// Wall and CPU time of each trial of one measure.
    struct Samples {
        var wall: [Double] = [], cpu: [Double] = []

        mutating func measure(_ body: () async throws -> Void) async throws {
            let cpu0 = ProcessCPU.ofThisProcess()
            let elapsed = try await ContinuousClock().measure { try await body() }
            cpu.append(ProcessCPU.ofThisProcess() - cpu0)
            wall.append(elapsed.seconds)
        }

        var measure: Measure { Measure(seconds: Timings(samples: wall), cpuSeconds: Timings(samples: cpu), growth: TrialGrowth(wall)) }
    }
}

/// The names of what a libvirt connection holds.
struct DriverObjects: Equatable {
    var domains: Set<String>, networks: Set<String>, pools: Set<String>

    init(_ connection: Connection) throws {
        domains = Set(try connection.domains().map(\.name))
        networks = Set(try connection.networks().map(\.name))
        pools = Set(try connection.storagePools().map(\.name))
    }

    func difference(from other: DriverObjects) -> String {
        [("domains", domains.subtracting(other.domains)), ("networks", networks.subtracting(other.networks)),
         ("storage pools", pools.subtracting(other.pools))]
            .filter { !$0.1.isEmpty }.map { "\($0.1.count) \($0.0) (\($0.1.sorted().prefix(3).joined(separator: ", ")), …)" }
            .joined(separator: "; ")
    }
}

/// A platform of the requested size: 90 % of processors carry a personality with NICs on two
/// VLANs and two disks; the rest are standbys; volumes spread over 10 pools.
struct ControlPlaneDefinition {
    var processors: Int, vlans: Int, volumes: Int

    func yaml(platform: String) -> String {
        let personalities = processors * 9 / 10
        let pools = 10
        var y = "platform: \(platform)\nhosts:\n  - { name: local, uri: \"test:///default\" }\n"
        y += "processors:\n  vcpus: 1\n  memoryMiB: 128\n  members:\n"
        for i in 0..<processors { y += "    - { name: \(platform)-p\(i), host: local }\n" }
        y += "vlans:\n"
        for v in 0..<vlans { y += "  - { name: v\(v), id: \(v + 1), subnet: 10.\(100 + v / 256).\(v % 256).0/24 }\n" }
        y += "storage:\n  pools:\n"
        for p in 0..<pools {
            y += "    - name: \(platform)-pool\(p)\n      host: local\n      path: /vp-bench/\(platform)/pool\(p)\n      volumes:\n"
            for v in stride(from: p, to: volumes, by: pools) { y += "        - { name: vol\(v), capacity: 8MiB }\n" }
        }
        y += "personalities:\n"
        for i in 0..<personalities {
            y += "  - name: s\(i)\n    nics:\n      - { vlan: v\(i % vlans) }\n      - { vlan: v\((i + 1) % vlans) }\n"
            let disks = [2 * i, 2 * i + 1].filter { $0 < volumes }
            if !disks.isEmpty {
                y += "    disks:\n"
                for (k, v) in disks.enumerated() { y += "      - { target: vd\(["b", "c"][k]), volume: \(platform)-pool\(v % pools)/vol\(v) }\n" }
            }
        }
        return y
    }
}
