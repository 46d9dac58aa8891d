import ArgumentParser
import CommandOutput
import Foundation
import Libvirt
import Logging
import PlatformEngine
import ProcessorImage
import TrialProcessor

@main
struct VPBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vp-bench",
        abstract: "Measure the platform against its bars.",
        subcommands: [BootBench.self, ControlPlaneBench.self, FailoverBench.self, ServiceThroughputBench.self, MaglevBench.self, ServiceFailoverBench.self,
                      FaultMatrixBench.self, APIStatusBench.self, APIEventsBench.self,
                      DaemonIdleBench.self])
}

/// Logs of a failover service run inside a benchmark go to stderr at VP_LOG_LEVEL (default
/// warning), so that the benchmark's own output stays readable.
enum BenchLogging {
    static func bootstrap() {
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = ProcessInfo.processInfo.environment["VP_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
            return h
        }
    }
}

/// Statistics of repeated timings.
struct Timings: Encodable {
    var samples: [Double]
    var median: Double { percentile(0.5) }
    var p99: Double { percentile(0.99) }
    var max: Double { samples.max() ?? 0 }

    func percentile(_ q: Double) -> Double {
        let sorted = samples.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * q).rounded(.up)))]
    }

    enum CodingKeys: String, CodingKey { case samples, median, p99, max }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(samples, forKey: .samples); try c.encode(median, forKey: .median)
        try c.encode(p99, forKey: .p99); try c.encode(max, forKey: .max)
    }
}

struct ControlPlaneBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "control-plane",
        abstract: "Plan and apply a large platform on libvirt's test driver (bars: apply ≤ 5 s, no-op re-apply ≤ 0.5 s).")

    @Option(help: "Processors in the generated platform.") var processors = 1000
    @Option(help: "VLANs.") var vlans = 200
    @Option(help: "Volumes.") var volumes = 2000
    @Option(help: "Repetitions.") var trials = 5
    @OptionGroup var output: OutputOptions

    struct Result: Encodable {
        var processors: Int, vlans: Int, volumes: Int, trials: Int
        var planSeconds: Timings, applySeconds: Timings, noopApplySeconds: Timings
    }

    func run() async throws {
        var plan = Timings(samples: []), apply = Timings(samples: []), noop = Timings(samples: [])
        // The test driver forgets its objects when its last connection closes: keep one open so
        // that each measured run (a new engine, as a new `vpctl` process would be) sees the last.
        let keeper = try Connection(uri: "test:///default")
        defer { keeper.close() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vp-bench-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for trial in 1...trials {
            let name = "bench\(trial)"
            let file = dir.appendingPathComponent("\(name).yaml").path
            try generate(platform: name).write(toFile: file, atomically: true, encoding: .utf8)
            let state = dir.appendingPathComponent("\(name).sqlite").path
            let clock = ContinuousClock()
            // Each measure includes reading and validating the file, as a `vpctl` run would.
            var changes = 0
            plan.samples.append(try await clock.measure {
                changes = try await PlatformEngine(file: file, statePath: state).plan().changes.count
            }.seconds)
            apply.samples.append(try await clock.measure {
                try await PlatformEngine(file: file, statePath: state).apply(cause: "bench")
            }.seconds)
            var leftover = 0
            noop.samples.append(try await clock.measure {
                leftover = try await PlatformEngine(file: file, statePath: state).apply(cause: "bench").changes.count
            }.seconds)
            let engine = try PlatformEngine(file: file, statePath: state)
            guard leftover == 0 else { throw ValidationError("re-apply of trial \(trial) still changed \(leftover) objects") }
            Progress.say("trial \(trial): plan \(fmt(plan.samples.last!)) s (\(changes) changes), apply \(fmt(apply.samples.last!)) s, no-op apply \(fmt(noop.samples.last!)) s")
            try await engine.destroy(cause: "bench")
        }
        let result = Result(processors: processors, vlans: vlans, volumes: volumes, trials: trials,
                            planSeconds: plan, applySeconds: apply, noopApplySeconds: noop)
        if output.format == .json { try JSONOutput.print(result); return }
        var table = Table("MEASURE", "MEDIAN (s)", "P99 (s)", "BAR (s)")
        table.add("plan", fmt(plan.median), fmt(plan.p99), "-")
        table.add("full apply", fmt(apply.median), fmt(apply.p99), "5.0")
        table.add("no-op re-apply", fmt(noop.median), fmt(noop.p99), "0.5")
        print("\(processors) processors, \(vlans) VLANs, \(volumes) volumes on test:///default, \(trials) trials")
        print(table.render())
    }

    func fmt(_ s: Double) -> String { String(format: "%.3f", s) }

    /// A platform of the requested size: 90 % of processors carry a personality with NICs on two
    /// VLANs and two disks; the rest are standbys; volumes spread over 10 pools.
    func generate(platform: String) -> String {
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

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

struct BootBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "boot",
        abstract: "Boot a processor from the image repeatedly: start → agent reports its DHCP address (bar ≤ 10 s under TCG).")

    @Option(help: "libvirt URI of the host.") var uri = "qemu:///system"
    @Option(help: "Directory of the processor image.") var image = ProcessorImage.defaultDirectory
    @Option(help: "Repetitions.") var trials = 10
    @OptionGroup var output: OutputOptions

    struct Result: Encodable { var uri: String; var domainType: String; var trials: Int; var bootSeconds: Timings }

    func run() async throws {
        let connection = try Connection(uri: uri)
        defer { connection.close() }
        let trial = TrialProcessor(name: "vp-bench-boot", network: "vp-bench-boot", bridge: "vpbenchboot",
                                   subnetBase: "10.216.0", image: ProcessorImage(directory: image))
        try trial.remove(connection)
        var boot = Timings(samples: [])
        var type = ""
        for i in 1...trials {
            let booted = try await trial.boot(connection)
            try trial.remove(connection)
            boot.samples.append(booted.bootSeconds)
            type = booted.domainType
            Progress.say("trial \(i): ready after \(String(format: "%.2f", booted.bootSeconds)) s")
        }
        if output.format == .json {
            try JSONOutput.print(Result(uri: uri, domainType: type, trials: trials, bootSeconds: boot))
            return
        }
        print("boot to ready on \(uri) (domain type \(type)), \(trials) trials")
        var table = Table("MEASURE", "MEDIAN (s)", "P99 (s)", "BAR (s)")
        table.add("start → agent reports DHCP address", String(format: "%.2f", boot.median), String(format: "%.2f", boot.p99), "10")
        print(table.render())
    }
}
