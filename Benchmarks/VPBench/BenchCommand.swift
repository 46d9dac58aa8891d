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
