import ArgumentParser
import CommandOutput
import Dispatch
import FaultCheck
import Foundation

/// `vp-bench faults`: the fault matrix. Each fault injected N times on real guests with
/// `vpctl serve` at the product's defaults, while a checker samples libvirt every 50 ms; one
/// table in the spirit of Pacemaker's cts-lab.
struct FaultMatrixBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faults",
        abstract: "Inject every fault N times on real guests and check that no data is lost and no MAC or volume has two carriers.",
        discussion: """
            Brings up a platform of its own (fmx: web and db on two processors, a hot and a cold standby, 10.123.0.0/16) \
            with `vpctl serve` at its defaults as a child process, and injects each fault --runs times: \
            \(Fault.allCases.map(\.rawValue).joined(separator: ", ")). \
            Throughout each run a checker reads every domain's live definition every 50 ms (no MAC and no volume on two \
            running domains; a read that fails counts as unchecked, not as fine); after it, the marker written on each \
            personality's disk must read back, and every declaration of a processor the fault did not bring down is \
            false. Between runs the platform is restored (failed processors repaired, the definition re-applied). \
            A run survives when every check was made and passed. Removes its platform at the end, also on error.
            """)

    @Option(help: "Runs per fault.") var runs = 5
    @Option(help: "Only these faults (comma-separated).") var only: String?
    @Option(help: "Directory of the processor image.") var image: String?
    @OptionGroup var output: OutputOptions

    struct Run: Encodable {
        var fault: Fault
        var run: Int
        var survived: Bool
        var verdict: RunVerdict
        var recoveryMs: [Double]
        var notes: [String]
        /// Why samples could not be checked: reason → domain reads.
        var unreadable: [String: Int]
    }

    struct Row: Encodable {
        var fault: Fault
        var runs: Int
        var survived: Int
        var doubleCarriers: Int
        var lostMarkers: Int
        var falseDeclarations: Int
        var uncheckedSamples: Int
        var samples: Int
        var recoveryMs: Timings
        var recoveryMeasures: String
    }

    struct Result: Encodable { var runsPerFault: Int; var seconds: Double; var rows: [Row]; var runs: [Run] }

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        _ = try faults()
    }

    func faults() throws -> [Fault] {
        guard let only else { return Fault.allCases }
        return try only.split(separator: ",").map { name in
            let name = name.trimmingCharacters(in: .whitespaces)
            guard let f = Fault(rawValue: name) else {
                throw ValidationError("--only: no fault '\(name)' (faults: \(Fault.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return f
        }
    }

    func run() async throws {
        BenchLogging.bootstrap()
        let (faults, runs) = (try faults(), self.runs)
        let lab = try FaultLab(image: image)
        let matrix = Task { try await Self.matrix(lab, faults: faults, runs: runs) }
        // Ctrl-C or SIGTERM end the matrix; the child serve and the platform are removed below.
        let handlers = onInterrupt { _ in matrix.cancel() }
        defer { handlers.forEach { $0.cancel() } }
        let result: Result
        do { result = try await matrix.value } catch {
            await lab.down()
            lab.sampler.stop()
            throw error
        }
        await lab.down()
        lab.sampler.stop()
        if output.format == .json { try JSONOutput.print(result) } else { report(result) }
    }

    static func matrix(_ lab: FaultLab, faults: [Fault], runs: Int) async throws -> Result {
        let started = ContinuousClock.now
        try await lab.up()
        var done: [Run] = []
        do {
            try await runAll(lab, faults: faults, runs: runs, into: &done)
        } catch is CancellationError {
            Progress.say("interrupted: reporting the \(done.count) runs done")
        }
        let rows = faults.map { fault in
            let mine = done.filter { $0.fault == fault }
            return Row(fault: fault, runs: mine.count, survived: mine.filter(\.survived).count,
                       doubleCarriers: mine.map(\.verdict.doubleCarriers.count).reduce(0, +),
                       lostMarkers: mine.map(\.verdict.lostMarkers.count).reduce(0, +),
                       falseDeclarations: mine.map(\.verdict.falseDeclarations.count).reduce(0, +),
                       uncheckedSamples: mine.map(\.verdict.uncheckedSamples).reduce(0, +),
                       samples: mine.map(\.verdict.samples).reduce(0, +),
                       recoveryMs: Timings(samples: mine.flatMap(\.recoveryMs)), recoveryMeasures: fault.recovery)
        }
        return Result(runsPerFault: runs, seconds: (ContinuousClock.now - started).seconds, rows: rows, runs: done)
    }

    /// Every run of every fault, appended to `done` as it ends (an interrupted matrix keeps them).
    static func runAll(_ lab: FaultLab, faults: [Fault], runs: Int, into done: inout [Run]) async throws {
        var unstartable = 0
        matrix: for fault in faults {
            for i in 1...runs {
                try Task.checkCancellation()
                let run: Run
                do {
                    run = try await lab.run(fault, i)
                    unstartable = 0
                } catch {
                    if error is CancellationError { throw error }
                    // Not even a rebuilt platform reached a known state: the run is failed, and
                    // after two such the matrix stops (with the runs it has).
                    let verdict = RunVerdict(doubleCarriers: [], lostMarkers: [], falseDeclarations: [], uncheckedSamples: 0, samples: 0,
                                             problems: ["could not start from a known state: \(error)"])
                    run = Run(fault: fault, run: i, survived: false, verdict: verdict, recoveryMs: [], notes: [], unreadable: [:])
                    unstartable += 1
                }
                let v = run.verdict
                Progress.say("\(fault.rawValue) run \(i): \(run.survived ? "survived" : "FAILED")"
                    + (run.recoveryMs.isEmpty ? "" : ", recovery \(run.recoveryMs.map { String(format: "%.0f", $0) }.joined(separator: "/"))"
                        + " ms")
                    + ", \(v.samples) samples (\(v.uncheckedSamples) unchecked)"
                    + (v.problems + v.doubleCarriers + v.lostMarkers + v.falseDeclarations).map { "; \($0)" }.joined())
                done.append(run)
                if unstartable >= 2 {
                    Progress.say("the platform cannot be brought to a known state; stopping the matrix")
                    break matrix
                }
            }
        }
    }

    func report(_ r: Result) {
        print("fault matrix on real guests (TCG), vpctl serve at defaults, "
              + "\(r.runsPerFault) run\(r.runsPerFault == 1 ? "" : "s") per fault, \(Int(r.seconds)) s")
        var table = Table("FAULT", "RUNS", "SURVIVED", "DOUBLE CARRIERS", "LOST MARKERS", "FALSE DECL.", "UNCHECKED SAMPLES",
                          "RECOVERY MEDIAN (ms)", "P99 (ms)")
        for row in r.rows {
            let none = row.recoveryMs.samples.isEmpty
            table.add(row.fault.rawValue, "\(row.runs)", "\(row.survived)", "\(row.doubleCarriers)", "\(row.lostMarkers)",
                      "\(row.falseDeclarations)", "\(row.uncheckedSamples)/\(row.samples)",
                      none ? "-" : String(format: "%.0f", row.recoveryMs.median), none ? "-" : String(format: "%.0f", row.recoveryMs.p99))
        }
        print(table.render())
        print("\nrecovery measures:")
        for row in r.rows { print("  \(row.fault.rawValue): \(row.recoveryMeasures)") }
        let failed = r.runs.filter { !$0.survived }
        if !failed.isEmpty { print("\nruns that did not survive:") }
        for run in failed {
            let v = run.verdict
            print("  \(run.fault.rawValue) run \(run.run):")
            var lines = v.problems
            lines += v.doubleCarriers.map { "double carrier: \($0)" }
            lines += v.lostMarkers.map { "lost marker: \($0)" }
            lines += v.falseDeclarations.map { "false declaration: \($0)" }
            lines += run.unreadable.sorted { $0.key < $1.key }.map { "unchecked: \($0.key) (\($0.value)×)" }
            lines += run.notes.map { "note: \($0)" }
            for line in lines { print("    - \(line)") }
        }
    }
}

extension FaultLab {
    /// One run: markers written, the fault injected with the sampler on, the platform checked
    /// and restored. A run that cannot start from a known state restores (or rebuilds) the
    /// platform first; declarations made meanwhile are false ones of this run.
    func run(_ fault: Fault, _ index: Int) async throws -> FaultMatrixBench.Run {
        let tag = "fm \(fault.rawValue) run \(index) \(UUID().uuidString.prefix(8))"
        var written: [String: String] = [:]
        var idle: [Declaration] = []
        for attempt in 1...3 {
            do {
                try refresh()
                idle += try unaccountedDeclarations()
                switch attempt {
                case 1: try await ensureKnownState()
                case 2: try await restore()
                default: try await rebuild()
                }
                written = try await writeMarkers(tag)
                let moving = try store.unfinishedFailovers()
                guard moving.isEmpty else {
                    throw BenchError("\(moving.map(\.personality).joined(separator: ", ")) moved while the run was being prepared")
                }
                break
            } catch {
                if error is CancellationError || attempt == 3 { throw error }
                let next = attempt == 1 ? "restoring" : "rebuilding"
                Progress.say("\(fault.rawValue) run \(index) cannot start yet (\(error)); \(next) the platform")
            }
        }
        idle += try unaccountedDeclarations()
        sampler.begin()
        var injected = Injected()
        do { injected = try await inject(fault) } catch {
            if error is CancellationError { _ = sampler.end(); throw error }
            injected.problems.append("\(error)")
        }
        // A cascade (a replacement declared in turn) shows within moments of the move; what it
        // moves is checked once it has finished.
        try await Task.sleep(for: .seconds(2))
        for move in try await settledMoves() {
            injected.problems.append("the move of \(move.personality) off \(move.source) is still at \(move.step.rawValue) after the fault")
        }
        var markers: [String: MarkerReading] = [:]
        for person in Self.personalities {
            let (marker, problems) = await served(person)
            markers[person] = marker
            injected.problems += problems
        }
        var restored = true
        do { try await restore() } catch {
            if error is CancellationError { _ = sampler.end(); throw error }
            injected.problems.append("restoring the platform after the run: \(error)")
            restored = false
        }
        let declarations = try unaccountedDeclarations()
        let checker = sampler.end()
        let watchedMACs = Set(try Self.personalities.flatMap { try devices($0).nics.map(\.spec.mac) })
        for missing in checker.neverSeen(macs: watchedMACs, volumes: Set(Self.personalities.map { "\(name)-data/\($0)-data" })) {
            injected.problems.append("the sampler never saw \(missing) on a running domain: its check of it proves nothing")
        }
        if !restored { try await rebuild() }
        let falseOnes = DeclarationCheck.falseDeclarations(idle, mayDeclare: [])
            + DeclarationCheck.falseDeclarations(declarations, mayDeclare: injected.mayDeclare)
        let verdict = RunVerdict(
            doubleCarriers: checker.doubles.sorted { $0.value.firstAt < $1.value.firstAt }
                .map { String(format: "%@ (first at %.2f s, %d samples)", $0.key.description, $0.value.firstAt, $0.value.samples) },
            lostMarkers: MarkerCheck.lost(written: written, read: markers),
            falseDeclarations: falseOnes.map { "\($0.processor) (carrying \($0.personality))" },
            uncheckedSamples: checker.uncheckedSamples, samples: checker.samples, problems: injected.problems)
        return .init(fault: fault, run: index, survived: verdict.survived, verdict: verdict, recoveryMs: injected.recoveryMs,
                     notes: injected.notes, unreadable: checker.unreadable)
    }

    /// The declarations since the last accounted move (and they are accounted now).
    func unaccountedDeclarations() throws -> [Declaration] {
        let records = try moves(after: accountedMoves)
        accountedMoves = try lastMoveID()
        return records.map { Declaration(processor: $0.source, personality: $0.personality, planned: $0.planned) }
    }
}
