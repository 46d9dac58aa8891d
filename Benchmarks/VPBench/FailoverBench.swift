import AgentProtocol
import ArgumentParser
import CommandOutput
import Failover
import Foundation
import Hosts
import Logging
import PlatformEngine
import PlatformHarness
import StateStore

/// `vp-bench failover`: real guests on a platform of its own, the failover service in this
/// process, QEMU killed (SIGKILL) or hung (SIGSTOP) and the times read from the journal.
struct FailoverBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failover",
        abstract: "Measure failure detection and failover on real guests (SIGKILL, SIGSTOP, hot and cold standbys).",
        discussion: """
            Brings up a platform of its own (one personality with two NICs and a disk; standbys hot, then cold), \
            runs the failover service in this process, and repeats: fail the carrier, wait until the personality \
            answers on the standby, repair the failed processor. Reports median and p99 of kill → declared and \
            declared → answering. With --saturate-minutes it instead keeps every core busy for that long and \
            counts false declarations (there must be none). With --churn it keeps the CPU saturated and another guest \
            booting, hot-plugged, SIGKILLed and removed beside three monitored personalities for --minutes, SIGSTOPs a \
            carrier every so often, and counts false declarations. Removes its platform at the end.
            """)

    @Option(help: "Trials per measurement.") var trials = 20
    @Option(help: "Instead of trials: minutes of CPU saturation, counting false declarations.") var saturateMinutes: Int?
    @Flag(help: "Instead of trials: other guests started, hot-plugged and killed beside the monitored processors while the host CPU is saturated; counts false declarations and times SIGSTOP trials meanwhile.")
    var churn = false
    @Option(help: "Minutes of --churn.") var minutes = 10
    @Option(help: "Directory of the processor image.") var image: String?
    @OptionGroup var output: OutputOptions

    struct Result: Encodable {
        var trials: Int
        var sigkillToDeclaredMs: Timings
        var sigstopToDeclaredMs: Timings
        var declaredToAnsweringHotMs: Timings
        var declaredToAnsweringColdMs: Timings
        var detectedBy: [String: Int]
    }

    func run() async throws {
        BenchLogging.bootstrap()
        if let minutes = saturateMinutes { try await saturate(minutes: minutes); return }
        if churn { try await ChurnBench(minutes: minutes, image: image, output: output).run(); return }
        var result = Result(trials: trials, sigkillToDeclaredMs: Timings(samples: []), sigstopToDeclaredMs: Timings(samples: []),
                            declaredToAnsweringHotMs: Timings(samples: []), declaredToAnsweringColdMs: Timings(samples: []),
                            detectedBy: [:])
        try await withPlatform(mode: "hot") { bench in
            for signal in [SIGKILL, SIGSTOP] {
                for i in 1...trials {
                    let t = try await bench.trial(signal: signal)
                    if signal == SIGKILL { result.sigkillToDeclaredMs.samples.append(t.declaredMs) }
                    else { result.sigstopToDeclaredMs.samples.append(t.declaredMs) }
                    result.declaredToAnsweringHotMs.samples.append(t.answeredMs)
                    result.detectedBy[t.source, default: 0] += 1
                    Progress.say("\(signal == SIGKILL ? "SIGKILL" : "SIGSTOP") trial \(i): declared \(fmt(t.declaredMs)) ms (\(t.source)), answering on hot standby \(fmt(t.answeredMs)) ms later")
                    try await bench.repairAndWait(t.failed)
                }
            }
        }
        try await withPlatform(mode: "cold") { bench in
            for i in 1...trials {
                let t = try await bench.trial(signal: SIGKILL)
                result.declaredToAnsweringColdMs.samples.append(t.answeredMs)
                Progress.say("cold trial \(i): answering on cold standby \(fmt(t.answeredMs)) ms after declaration")
                try await bench.repairAndWait(t.failed)
            }
        }
        if output.format == .json { try JSONOutput.print(result); return }
        print("failover on real guests (TCG), \(trials) trials each; detected by \(result.detectedBy.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))")
        var table = Table("MEASURE", "MEDIAN (ms)", "P99 (ms)", "BAR")
        table.add("QEMU SIGKILL → declared", fmt(result.sigkillToDeclaredMs.median), fmt(result.sigkillToDeclaredMs.p99), "≤ 50 ms")
        table.add("QEMU SIGSTOP → declared", fmt(result.sigstopToDeclaredMs.median), fmt(result.sigstopToDeclaredMs.p99), "≤ 500 ms")
        table.add("declared → answering, hot standby", fmt(result.declaredToAnsweringHotMs.median), fmt(result.declaredToAnsweringHotMs.p99), "≤ 1000 ms")
        table.add("declared → answering, cold standby", fmt(result.declaredToAnsweringColdMs.median), fmt(result.declaredToAnsweringColdMs.p99), "boot + 1000 ms")
        print(table.render())
    }

    func fmt(_ v: Double) -> String { String(format: "%.0f", v) }

    /// Every core busy for `minutes` while the service watches a healthy platform; any
    /// declaration is a false one.
    func saturate(minutes: Int) async throws {
        try await withPlatform(mode: "hot") { bench in
            let burners = try CPUBurners(count: ProcessInfo.processInfo.activeProcessorCount * 2)
            defer { burners.stop() }
            let before = try bench.store.events(limit: 1).last?.id ?? 0
            let end = ContinuousClock.now + .seconds(minutes * 60)
            while ContinuousClock.now < end {
                try await Task.sleep(for: .seconds(30))
                let left = Int((end - ContinuousClock.now).components.seconds)
                Progress.say("saturated, \(left) s left; declarations so far: \(try bench.store.failovers().count)")
            }
            let events = try bench.store.events(after: before, limit: 100_000)
            let declared = events.filter { $0.kind == .detection }.count
            let adapters = events.filter { $0.kind == .adapterUnreachable }.count
            print("\(minutes) min with \(burners.processes.count) CPU burners on \(ProcessInfo.processInfo.activeProcessorCount) cores: \(declared) false declarations, \(adapters) adapter-unreachable events")
            if declared > 0 { throw ValidationError("\(declared) false declarations: \(events.filter { $0.kind == .detection }.map(\.detail))") }
        }
    }

    func withPlatform(mode: String, _ body: (BenchPlatform) async throws -> Void) async throws {
        let bench = try BenchPlatform(mode: mode, image: image)
        do {
            try await bench.up()
            try await body(bench)
        } catch {
            await bench.down()
            throw error
        }
        await bench.down()
    }
}

/// The benchmark's own platform: personality `svc` (two VLANs, one disk) on b1, standbys b2, b3.
final class BenchPlatform: @unchecked Sendable {
    let platform: OwnPlatform
    var engine: PlatformEngine { platform.engine }
    var failover: FailoverEngine { platform.failover }
    var store: any PlatformStore { engine.store }
    var name: String { platform.name }

    convenience init(mode: String, image: String?) throws {
        let (name, definition) = Self.definition(mode: mode, image: image)
        try self.init(name: name, definition: definition)
    }

    /// The platform of the standby mode's trials: its name and its definition.
    static func definition(mode: String, image: String?) -> (name: String, yaml: String) {
        let name = "vpbench\(mode.prefix(1))"
        let subnet = mode == "hot" ? 217 : 218
        let definition = DefinitionYAML(platform: name, processors: (1...3).map { "\(name)-\($0)" }, image: image)
        return (name, definition.yaml("""
        \(DefinitionYAML.frontAndBack(net: subnet))
        \(definition.storage(volumes: "[{ name: svc, capacity: 16MiB }]"))
        personalities:
          - name: svc
            nics: [{ vlan: front }, { vlan: back }]
            disks: [{ target: vdb, volume: \(definition.poolName)/svc }]
        standby: { mode: \(mode), preferSameHost: true }
        """))
    }

    /// A platform of the given definition (YAML) whose name is `name`, with a state store of its own.
    init(name: String, definition: String) throws {
        platform = try OwnPlatform(name: name, definition: definition)
    }

    func up() async throws {
        Progress.say("bringing up \(name)")
        try await engine.apply(cause: "bench failover")
        let view = try PlatformView(definition: engine.definition, store: store)
        // Every running processor (standbys too: they must be booted before the first trial).
        for p in view.processors where view.personality(on: p) != nil || view.hotStandbys {
            try await waitUntilBooted(p, since: 0, within: .seconds(180))
        }
        for person in view.bindings.keys.sorted() {
            for address in view.addresses(of: person) { try await HeartbeatProbe.waitForReply(address.ip, within: .seconds(120)) }
        }
        platform.startService(logger: Logger(label: "bench.serve"))
        try await platform.waitUntilWatching(view.bindings.values.sorted())
    }

    func down() async {
        await platform.tearDown(cause: "bench failover")
    }

    struct Trial {
        var declaredMs: Double; var answeredMs: Double; var source: String; var failed: String
        /// From the journal: how long each step of the move took after the one before (declared
        /// first), in the order of `Trial.steps`; a step not found is left out.
        var stepMs: [String: Double] = [:]
        static let steps: [FailoverStep] = [.standbyChosen, .fenced, .attached, .announced, .answered]
    }

    /// Fails `person`'s carrier with `signal` and waits until it answers on its new processor.
    func trial(signal: Int32, of person: String = "svc") async throws -> Trial {
        guard let carrier = try store.bindings()[person] else { throw ValidationError("\(person) is not placed") }
        guard let pid = QEMUProcess.pid(of: carrier) else { throw ValidationError("the QEMU of \(carrier) does not run") }
        let before = try store.failovers().last?.id ?? 0
        let failedAt = Date()
        kill(pid, signal)
        let deadline = ContinuousClock.now + .seconds(120)
        while true {
            if let move = try store.failovers().last(where: { ($0.id ?? 0) > before && $0.personality == person }), let id = move.id,
               move.step >= .answered {
                let steps = try store.events(limit: 200).filter { $0.kind == .step && $0.personality == person && $0.time >= move.declaredAt }
                func stepAt(_ step: FailoverStep) -> Date? { steps.last { $0.detail.hasPrefix("\(step.rawValue):") }?.time }
                let answeredAt = stepAt(.answered) ?? move.updatedAt
                var stepMs: [String: Double] = [:]
                var previous = move.declaredAt
                for step in Trial.steps {
                    guard let at = stepAt(step) else { continue }
                    stepMs[step.rawValue] = at.timeIntervalSince(previous) * 1000
                    previous = at
                }
                while try store.failover(id: id)?.step != .done { try await Task.sleep(for: .milliseconds(20)) }
                return Trial(declaredMs: move.declaredAt.timeIntervalSince(failedAt) * 1000,
                             answeredMs: answeredAt.timeIntervalSince(move.declaredAt) * 1000,
                             source: String(move.reason.prefix { $0 != ":" }), failed: carrier, stepMs: stepMs)
            }
            guard ContinuousClock.now < deadline else { throw ValidationError("\(person) was not moved off \(carrier) within 120 s") }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Returns the failed processor to the pool and, for a hot standby, waits until its agent runs.
    func repairAndWait(_ processor: String, within limit: Duration = .seconds(60)) async throws {
        try await Administration(engine: failover).repairAndWaitForBoot(processor, platform: name, who: "bench", within: limit) {
            try restart(processor)
        }
    }

    /// Until the processor's agent is ready. A guest kernel that panics while booting ("IO-APIC +
    /// timer doesn't work": a TCG guest's timer check fails when the host is this loaded) is
    /// started again; that is the image's problem, not the detector's, and not what is measured.
    func waitUntilBooted(_ processor: String, since: Int, within limit: Duration = .seconds(60)) async throws {
        try await Console.waitUntilBooted(platform: name, processor: processor, since: since, within: limit) { try restart(processor) }
    }

    private func restart(_ processor: String) throws {
        Progress.say("\(processor) panicked while booting; starting it again")
        guard let domain = try engine.connections["local"]?.domain(named: processor) else { return }
        if try domain.isActive() { try domain.destroy() }
        try domain.start()
    }
}

/// `sha256sum /dev/zero` processes keeping cores busy until stopped.
struct CPUBurners {
    let processes: [Process]

    init(count: Int) throws {
        processes = try (0..<count).map { _ in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
            p.arguments = ["/dev/zero"]
            try p.run()
            return p
        }
    }

    /// SIGKILL: they inherit this process's blocked signal mask, so SIGTERM stays pending forever.
    func stop() {
        for p in processes {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
    }
}
