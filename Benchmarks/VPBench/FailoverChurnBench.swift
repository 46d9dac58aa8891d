import AgentProtocol
import ArgumentParser
import CommandOutput
import Failover
import Foundation
import Hosts
import Libvirt
import LibvirtXML
import PlatformHarness
import ProcessorImage
import StateStore
import TrialProcessor

/// `vp-bench failover --churn`: the false-declaration bar under the conditions that broke it.
/// Three personalities on a platform of their own (five processors, two hot standbys), the
/// failover service at the product's defaults in this process, every core busy with
/// `sha256sum /dev/zero`, and beside them another guest booted, given a hot-plugged NIC,
/// SIGKILLed and removed, over and over. Every so often a carrier's QEMU is SIGSTOPped (a hang
/// no libvirt event reports): SIGSTOP → declared and declared → answering on the hot standby are
/// timed under the same load. Any other declaration is a false one (there must be none).
struct ChurnBench {
    var minutes: Int
    var image: String?
    var output: OutputOptions
    static let name = "dtchurn"
    static let personalities = ["a", "b", "c"]

    struct Result: Encodable {
        var minutes: Int
        var burners: Int
        var churnCycles: Int
        var churnFailures: [String]
        var falseDeclarations: [String]
        var sigstopToDeclaredMs: Timings
        var declaredToAnsweringHotMs: Timings
        /// Each step of those moves, after the one before (where the time of a move goes).
        var stepMs: [String: Timings]
    }

    static func definition(image: String?) -> String {
        DefinitionYAML(platform: name, processors: (1...5).map { "\(name)-\($0)" }, image: image).yaml("""
        \(DefinitionYAML.frontAndBack(net: 111))
        personalities:
        \(personalities.map { "  - { name: \($0), nics: [{ vlan: front }, { vlan: back }] }" }.joined(separator: "\n"))
        standby: { mode: hot, preferSameHost: true }
        """)
    }

    func run() async throws {
        let bench = try BenchPlatform(name: Self.name, definition: Self.definition(image: image))
        let result: Result
        do { result = try await measure(bench) } catch { await bench.down(); throw error }
        await bench.down()
        if output.format == .json { try JSONOutput.print(result) } else { report(result) }
        if !result.falseDeclarations.isEmpty {
            throw ValidationError("\(result.falseDeclarations.count) false declarations: \(result.falseDeclarations)")
        }
    }

    func measure(_ bench: BenchPlatform) async throws -> Result {
        try await bench.up()
        let burners = try CPUBurners(count: ProcessInfo.processInfo.activeProcessorCount)
        defer { burners.stop() }
        let end = ContinuousClock.now + .seconds(minutes * 60)
        let churn = Task { try await Self.churn(image: image, until: end) }
        defer { churn.cancel() }
        var result = Result(minutes: minutes, burners: burners.processes.count, churnCycles: 0, churnFailures: [],
                            falseDeclarations: [], sigstopToDeclaredMs: Timings(samples: []), declaredToAnsweringHotMs: Timings(samples: []),
                            stepMs: [:])
        var trials = Set<Int64>() // the moves this bench caused (SIGSTOP trials)
        var trial = 0
        // A quiet stretch between trials: declarations there can only be false ones.
        while ContinuousClock.now + .seconds(40) < end {
            try await Task.sleep(for: .seconds(20))
            try await repairFalselyDeclared(bench, trials: trials, into: &result)
            let person = Self.personalities[trial % Self.personalities.count]
            trial += 1
            let t = try await bench.trial(signal: SIGSTOP, of: person)
            if let id = try bench.store.failovers(last: 20).last(where: { $0.source == t.failed && $0.personality == person })?.id {
                trials.insert(id)
            }
            result.sigstopToDeclaredMs.samples.append(t.declaredMs)
            result.declaredToAnsweringHotMs.samples.append(t.answeredMs)
            for (step, ms) in t.stepMs { result.stepMs[step, default: Timings(samples: [])].samples.append(ms) }
            Progress.say("SIGSTOP trial \(trial) (\(person) on \(t.failed)): declared \(fmtMs(t.declaredMs)) ms (\(t.source)), answering on the hot standby \(fmtMs(t.answeredMs)) ms later")
            try await bench.repairAndWait(t.failed, within: .seconds(300))
        }
        while ContinuousClock.now < end { try await Task.sleep(for: .seconds(1)) }
        churn.cancel()
        let (cycles, failures) = (try? await churn.value) ?? (0, ["the churn task failed"])
        result.churnCycles = cycles
        result.churnFailures = failures
        try await repairFalselyDeclared(bench, trials: trials, into: &result)
        return result
    }

    /// Counts every declaration of a processor this bench did not stop, and repairs it so the
    /// platform keeps its standbys.
    func repairFalselyDeclared(_ bench: BenchPlatform, trials: Set<Int64>, into result: inout Result) async throws {
        for record in try bench.store.failovers(last: 200) where !record.planned && !trials.contains(record.id ?? 0) {
            let line = "#\(record.id ?? 0) \(record.source) (\(record.personality)): \(record.reason)"
            guard !result.falseDeclarations.contains(line) else { continue }
            result.falseDeclarations.append(line)
            Progress.say("FALSE declaration: \(line)")
            let deadline = ContinuousClock.now + .seconds(120)
            while try bench.store.failover(id: record.id ?? 0)?.step.isFinished == false, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(200))
            }
            try await bench.repairAndWait(record.source, within: .seconds(300))
        }
    }

    /// Another guest, not the platform's, on a network of its own: booted, given a hot-plugged NIC,
    /// SIGKILLed and removed, until `end`. Returns the cycles done and what failed.
    static func churn(image: String?, until end: ContinuousClock.Instant) async throws -> (Int, [String]) {
        let connection = try Connection(uri: "qemu:///system")
        defer { connection.close() }
        let guest = TrialProcessor(name: "\(name)-guest", network: "\(name)-guest", bridge: "dtchurn0", subnetBase: "10.113.0",
                                   mac: "02:56:50:11:13:10", image: ProcessorImage(directory: image ?? ProcessorImage.defaultDirectory))
        defer { try? guest.remove(connection) }
        var cycles = 0
        var failures: [String] = []
        try? guest.remove(connection)
        while ContinuousClock.now < end, !Task.isCancelled {
            do {
                _ = try await guest.boot(connection, timeout: .seconds(60))
                let domain = try connection.domain(named: guest.name)
                try domain.attachDevice(xml: InterfaceSpec(network: guest.network, mac: "02:56:50:11:13:11").render(), .live)
                try await Task.sleep(for: .seconds(2))
                guard let pid = QEMUProcess.pid(of: guest.name) else { throw ValidationError("the churn guest's QEMU is gone") }
                kill(pid, SIGKILL)
                let deadline = ContinuousClock.now + .seconds(20)
                while QEMUProcess.pid(of: guest.name) != nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
                try guest.remove(connection)
                cycles += 1
                Progress.say("churn cycle \(cycles): booted, hot-plugged, SIGKILLed and removed \(guest.name)")
            } catch is CancellationError {
                break
            } catch {
                failures.append("\(error)")
                try? guest.remove(connection)
            }
        }
        return (cycles, failures)
    }

    func report(_ r: Result) {
        print("""
            \(r.minutes) min, \(r.burners) CPU burners on \(ProcessInfo.processInfo.activeProcessorCount) cores, \
            \(r.churnCycles) churn cycles beside \(Self.personalities.count) personalities (failed cycles: \(r.churnFailures.count)): \
            \(r.falseDeclarations.count) false declarations
            """)
        r.falseDeclarations.forEach { print("  false: \($0)") }
        var table = Table("MEASURE", "TRIALS", "MEDIAN (ms)", "P99 (ms)", "BAR")
        table.add("QEMU SIGSTOP → declared", "\(r.sigstopToDeclaredMs.samples.count)", fmtMs(r.sigstopToDeclaredMs.median),
                  fmtMs(r.sigstopToDeclaredMs.p99), "≤ 500 ms")
        table.add("declared → answering, hot standby", "\(r.declaredToAnsweringHotMs.samples.count)",
                  fmtMs(r.declaredToAnsweringHotMs.median), fmtMs(r.declaredToAnsweringHotMs.p99), "≤ 1000 ms")
        for step in BenchPlatform.Trial.steps.map(\.rawValue) {
            guard let t = r.stepMs[step] else { continue }
            table.add("  of which → \(step)", "\(t.samples.count)", fmtMs(t.median), fmtMs(t.p99), "")
        }
        print(table.render())
    }
}

private func fmtMs(_ v: Double) -> String { String(format: "%.0f", v) }
