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
    @Option(help: "Processors of the large case (planned and applied, bar 5 s); 0 leaves it out.") var largeProcessors = 10000
    @Option(help: "VLANs of the large case.") var largeVlans = 2000
    @Option(help: "Volumes of the large case.") var largeVolumes = 2000
    @Option(help: "Repetitions of the large case.") var largeTrials = 3
    @Option(help: "Times each stage of a no-op re-apply is repeated in the breakdown (after the last trial); 0 leaves it out.")
    var stageRepeats = 5
    @OptionGroup var output: OutputOptions

    struct Measure: Encodable {
        var seconds: Timings
        var cpuSeconds: Timings
        var growth: TrialGrowth
        /// Growth of CPU time over the trials: wall time on a shared machine also counts others' turns.
        var cpuGrowth: TrialGrowth
    }

    struct Case: Encodable {
        var processors: Int, vlans: Int, volumes: Int, trials: Int
        var plan: Measure, apply: Measure, noopApply: Measure
        /// This process's resident memory after each trial's destroy (MiB), and its growth.
        var residentMiB: [Double], residentGrowth: TrialGrowth
    }

    struct Result: Encodable {
        var standard: Case
        var large: Case?
        var stages: [ControlPlaneStages.Stage]
        var loadAverage: String
    }

    func validate() throws {
        guard processors >= 1, vlans >= 2, volumes >= 0, trials >= 1, largeProcessors >= 0, largeVlans >= 2, largeVolumes >= 0, largeTrials >= 1
        else {
            throw ValidationError("--processors and --trials must be at least 1, --vlans at least 2 (each personality has NICs on two), --volumes at least 0 (the same for --large-*)")
        }
    }

    func run() async throws {
        // The test driver forgets its objects when its last connection closes: keep one open so
        // that each measured run (a new engine, as a new `vpctl` process would be) sees the last.
        let keeper = try Connection(uri: "test:///default")
        defer { keeper.close() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vp-bench-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var stages: [ControlPlaneStages.Stage] = []
        let standard = try await runCase(ControlPlaneDefinition(processors: processors, vlans: vlans, volumes: volumes), count: trials,
                                        prefix: "bench", in: dir, keeper: keeper) { file, state in
            if stageRepeats > 0 { stages = try ControlPlaneStages(file: file, state: state, uri: "test:///default").measure(repeats: stageRepeats) }
        }
        let large = largeProcessors == 0 ? nil
            : try await runCase(ControlPlaneDefinition(processors: largeProcessors, vlans: largeVlans, volumes: largeVolumes), count: largeTrials,
                               prefix: "large", in: dir, keeper: keeper) { _, _ in }
        let result = Result(standard: standard, large: large, stages: stages, loadAverage: Self.loadAverage())
        if output.format == .json { try JSONOutput.print(result); return }
        var table = Table("CASE", "MEASURE", "MEDIAN (s)", "P99 (s)", "CPU MEDIAN (s)", "FIRST (s)", "LAST (s)", "SLOPE (ms/trial)",
                          "CPU SLOPE (ms/trial)", "BAR (s)")
        for (c, bars) in [(standard, ["-", "-", "0.5 p99"]), large.map { ($0, ["-", "5.0", "-"]) }].compactMap({ $0 }) {
            let name = "\(c.processors)/\(c.vlans)"
            for (i, (label, m)) in [("plan", c.plan), ("full apply", c.apply), ("no-op re-apply", c.noopApply)].enumerated() {
                let bar = bars[i]
                table.add(name, label, fmt(m.seconds.median), fmt(m.seconds.p99), fmt(m.cpuSeconds.median), fmt(m.growth.first),
                          fmt(m.growth.last), String(format: "%+.1f", m.growth.slopeSecondsPerTrial * 1000),
                          String(format: "%+.1f", m.cpuGrowth.slopeSecondsPerTrial * 1000), bar)
            }
        }
        print("test:///default; \(processors) processors, \(vlans) VLANs, \(volumes) volumes, \(trials) trials"
              + (large.map { "; large: \($0.processors) processors, \($0.vlans) VLANs, \($0.volumes) volumes, \($0.trials) trials" } ?? ""))
        print(table.render())
        for c in [standard] + (large.map { [$0] } ?? []) {
            print("\(c.processors) processors: resident memory after each trial \(c.residentMiB.map { String(format: "%.0f", $0) }.joined(separator: ", ")) MiB "
                  + "(slope \(String(format: "%+.2f", c.residentGrowth.slopeSecondsPerTrial)) MiB/trial)")
        }
        if !stages.isEmpty {
            var breakdown = Table("NO-OP STAGE (\(processors) processors)", "MEDIAN (s)", "P99 (s)", "CALLS")
            for s in stages { breakdown.add(s.name, fmt(s.seconds.median), fmt(s.seconds.p99), s.calls == 0 ? "-" : String(s.calls)) }
            print(breakdown.render())
        }
        print("load average at the end: \(result.loadAverage)")
    }

    /// `count` trials of one platform size, each a platform of its own: plan, apply, no-op
    /// re-apply, `last` (after the last trial's no-op), destroy.
    func runCase(_ definition: ControlPlaneDefinition, count: Int, prefix: String, in dir: URL, keeper: Connection,
                last: (_ file: String, _ state: String) throws -> Void) async throws -> Case {
        var plan = Samples(), apply = Samples(), noop = Samples()
        var resident: [Double] = []
        let before = try DriverObjects(keeper)
        for trial in 1...count {
            let name = "\(prefix)\(trial)"
            let file = dir.appendingPathComponent("\(name).yaml").path
            try definition.yaml(platform: name).write(toFile: file, atomically: true, encoding: .utf8)
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
            if trial == count { try last(file, state) }
            try await PlatformEngine(file: file, statePath: state).destroy(cause: "bench")
            resident.append(Self.residentMiB())
            Progress.say("\(definition.processors) processors, trial \(trial): plan \(fmt(plan.wall.last!)) s (\(changes) changes), "
                + "apply \(fmt(apply.wall.last!)) s, no-op apply \(fmt(noop.wall.last!)) s "
                + "(CPU \(fmt(plan.cpu.last!)), \(fmt(apply.cpu.last!)), \(fmt(noop.cpu.last!)) s), resident \(String(format: "%.0f", resident.last!)) MiB")
            // A trial that leaves objects behind makes the next one slower: that is the bench's fault, not a measure.
            let after = try DriverObjects(keeper)
            guard after == before else { throw BenchError("trial \(trial) left objects in test:///default: \(after.difference(from: before))") }
        }
        return Case(processors: definition.processors, vlans: definition.vlans, volumes: definition.volumes, trials: count,
                    plan: plan.measure, apply: apply.measure, noopApply: noop.measure,
                    residentMiB: resident, residentGrowth: TrialGrowth(resident))
    }

    /// This process's resident set (MiB), from /proc/self/statm.
    static func residentMiB() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let pages = text.split(separator: " ").dropFirst().first.flatMap { Double($0) } ?? 0
        return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
    }

    static func loadAverage() -> String {
        ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?").split(separator: " ").prefix(3).joined(separator: " ")
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

        var measure: Measure {
            Measure(seconds: Timings(samples: wall), cpuSeconds: Timings(samples: cpu), growth: TrialGrowth(wall), cpuGrowth: TrialGrowth(cpu))
        }
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
