import ArgumentParser
import CommandOutput
import Foundation
import ServiceBalancing

/// `vp-bench maglev`: build time, balance and disruption of Maglev tables, next to the paper's
/// figures as `MaglevMetrics` documents them. Pure computation.
struct MaglevBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "maglev",
        abstract: "Maglev tables: build time, imbalance, and disruption when backends leave (rebuilt vs restricted(to:)), next to the paper's figures.",
        discussion: """
            Backends are named backend-0…backend-(N−1), equal weights. Build time is the median of 5 builds. \
            Disruption: backends removed at random (seeded, reproducible), table rebuilt over the rest, fraction \
            of slots whose owner changed, averaged over --runs removals; the minimum possible is the removed \
            backends' own share. restricted(to:) must move exactly that minimum. At N ≥ 1000, 1 % and 5 % of \
            the backends are also removed at once (the paper's Fig. 12 removes k of 1000).
            """)

    struct IntList: ExpressibleByArgument {
        var values: [Int]
        init?(argument: String) {
            let parts = argument.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !parts.isEmpty, !parts.contains(where: { $0 == nil }) else { return nil }
            values = parts.map { $0! }
        }
        init(_ values: [Int]) { self.values = values }
        var defaultValueDescription: String { values.map(String.init).joined(separator: ",") }
    }

    @Option(help: "Table sizes (primes), comma-separated.") var sizes = IntList([65537, 655373])
    @Option(help: "Backend counts, comma-separated.") var backends = IntList([3, 5, 10, 20, 50, 100, 1000])
    @Option(help: "Random removals averaged per disruption measure.") var runs = 20
    @Option(help: "Seed of the random removals.") var seed: UInt64 = 2016
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1 (got \(runs))") }
        for n in backends.values where n < 2 { throw ValidationError("--backends: \(n) is too few (at least 2, so that one can be removed)") }
        for m in sizes.values {
            do { _ = try MaglevTable(backends: [], size: m) } catch { throw ValidationError("--sizes: \(error)") }
            for n in backends.values where n > m { throw ValidationError("--sizes \(m) is smaller than --backends \(n)") }
        }
    }

    struct Balance: Encodable {
        var size: Int, backends: Int
        var buildMs: Timings
        var minSlots: Int, maxSlots: Int
        var maxOverIdeal: Double, minOverIdeal: Double
        /// §3.4: with equal weights every backend gets ⌊M/N⌋ or ⌈M/N⌉ slots.
        var floorCeilHolds: Bool
    }

    struct Disruption: Encodable {
        var size: Int, backends: Int, removed: Int, runs: Int
        /// Mean fraction of slots that changed owner when the table was rebuilt without them.
        var rebuilt: Double
        var rebuiltMax: Double
        /// Mean of the least possible: the removed backends' own share.
        var minimum: Double
        /// removed / backends.
        var removedFraction: Double
        var rebuiltOverMinimum: Double
        /// Mean fraction changed by `restricted(to:)`.
        var restricted: Double
        /// In every run, restricted(to:) moved exactly the removed backends' slots.
        var restrictedIsMinimum: Bool
    }

    struct PaperFigure: Encodable {
        var figure: String
        var paper: String
        var ours: String
    }

    struct Result: Encodable {
        var seed: UInt64
        var balance: [Balance]
        var disruption: [Disruption]
        var paper: [PaperFigure]
        var source: String
    }

    static let source = "Eisenbud et al., \"Maglev: A Fast and Reliable Software Network Load Balancer\", NSDI '16 (USENIX proceedings numbering), as documented in ServiceBalancing/MaglevMetrics.swift"

    func run() throws {
        var rng = MaglevBenchRandom(seed: seed)
        var balance: [Balance] = []
        var disruption: [Disruption] = []
        for m in sizes.values {
            for n in backends.values {
                let all = (0..<n).map { MaglevBackend(name: "backend-\($0)") }
                var build = Timings(samples: [])
                var table: MaglevTable!
                for _ in 0..<5 {
                    let start = ContinuousClock.now
                    table = try MaglevTable(backends: all, size: m)
                    build.samples.append((ContinuousClock.now - start).seconds * 1000)
                }
                let shares = table.shares().values
                let imbalance = MaglevMetrics.imbalance(of: table)!
                let b = Balance(size: m, backends: n, buildMs: build, minSlots: shares.min()!, maxSlots: shares.max()!,
                                maxOverIdeal: imbalance.maxOverIdeal, minOverIdeal: imbalance.minOverIdeal,
                                floorCeilHolds: shares.allSatisfy { $0 == m / n || $0 == (m + n - 1) / n })
                balance.append(b)
                Progress.say("M=\(m) N=\(n): build \(String(format: "%.2f", build.median)) ms, slots \(b.minSlots)–\(b.maxSlots), max/ideal \(String(format: "%.4f", b.maxOverIdeal)), min/ideal \(String(format: "%.4f", b.minOverIdeal))")

                var ks = [1]
                if n >= 1000 { ks += [n / 100, n / 20] }
                for k in ks {
                    // One backend: distinct choices (all of them when N ≤ runs); k > 1: random subsets.
                    let trials = k == 1 ? min(runs, n) : runs
                    var order = Array(0..<n)
                    order.shuffle(using: &rng)
                    var rebuilt: [Double] = [], minimum: [Double] = [], restricted: [Double] = []
                    var exact = true
                    for t in 0..<trials {
                        let removed: Set<Int>
                        if k == 1 { removed = [order[t]] } else {
                            var pick = Array(0..<n); pick.shuffle(using: &rng); removed = Set(pick.prefix(k))
                        }
                        let survivors = all.indices.filter { !removed.contains($0) }.map { all[$0] }
                        let rebuiltTable = try MaglevTable(backends: survivors, size: m)
                        let restrictedTable = table.restricted(to: Set(survivors.map(\.name)))
                        let least = removed.reduce(0.0) { $0 + MaglevMetrics.minimumDisruption(removing: all[$1].name, from: table) }
                        let r = MaglevMetrics.disruption(from: table, to: restrictedTable)
                        rebuilt.append(MaglevMetrics.disruption(from: table, to: rebuiltTable))
                        minimum.append(least)
                        restricted.append(r)
                        // Both are (slot count) / M: equal exactly when the slot counts are equal.
                        if abs(r - least) > 0.5 / Double(m) { exact = false }
                    }
                    func mean(_ xs: [Double]) -> Double { xs.reduce(0, +) / Double(xs.count) }
                    let d = Disruption(size: m, backends: n, removed: k, runs: trials, rebuilt: mean(rebuilt), rebuiltMax: rebuilt.max()!,
                                       minimum: mean(minimum), removedFraction: Double(k) / Double(n),
                                       rebuiltOverMinimum: mean(rebuilt) / mean(minimum), restricted: mean(restricted),
                                       restrictedIsMinimum: exact)
                    disruption.append(d)
                    Progress.say("M=\(m) N=\(n) remove \(k): rebuilt changes \(pct(d.rebuilt)) (minimum \(pct(d.minimum))), restricted \(pct(d.restricted))\(exact ? " = minimum" : " ≠ minimum!")")
                }
            }
        }
        let paper = paperFigures(balance: balance, disruption: disruption)
        let result = Result(seed: seed, balance: balance, disruption: disruption, paper: paper, source: Self.source)
        if output.format == .json { try JSONOutput.print(result); return }

        print("Maglev tables, equal weights, backends backend-0…; build time = median of 5 (\(Self.buildKind) build)")
        var t1 = Table("M", "N", "BUILD ms (median)", "BUILD ms (max)", "SLOTS min–max", "⌊M/N⌋–⌈M/N⌉", "§3.4 HOLDS", "MAX/IDEAL", "MIN/IDEAL")
        for b in balance {
            t1.add(String(b.size), String(b.backends), String(format: "%.3f", b.buildMs.median), String(format: "%.3f", b.buildMs.max),
                   "\(b.minSlots)–\(b.maxSlots)", "\(b.size / b.backends)–\((b.size + b.backends - 1) / b.backends)",
                   b.floorCeilHolds ? "yes" : "NO", String(format: "%.4f", b.maxOverIdeal), String(format: "%.4f", b.minOverIdeal))
        }
        print(t1.render())
        print("")
        print("disruption: k backends removed at random (seed \(seed)), mean over RUNS; MINIMUM = the removed backends' own slots")
        var t2 = Table("M", "N", "K", "RUNS", "REBUILT changed", "REBUILT max", "MINIMUM", "K/N", "REBUILT/MIN", "RESTRICTED changed", "RESTRICTED = MIN")
        for d in disruption {
            t2.add(String(d.size), String(d.backends), String(d.removed), String(d.runs), pct(d.rebuilt), pct(d.rebuiltMax), pct(d.minimum),
                   pct(d.removedFraction), String(format: "%.2f", d.rebuiltOverMinimum), pct(d.restricted), d.restrictedIsMinimum ? "exactly" : "NO")
        }
        print(t2.render())
        print("")
        print("paper figures next to ours (\(Self.source)):")
        var t3 = Table("FIGURE", "PAPER", "OURS")
        for f in paper { t3.add(f.figure, f.paper, f.ours) }
        print(t3.render())
    }

    #if DEBUG
    static let buildKind = "debug"
    #else
    static let buildKind = "release"
    #endif

    func pct(_ x: Double) -> String { String(format: "%.3f %%", x * 100) }
}

/// A small, seedable generator so that the random removals are the same on every run.
struct MaglevBenchRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
