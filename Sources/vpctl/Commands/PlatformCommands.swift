import ArgumentParser
import CommandOutput
import Foundation
import PlatformEngine
import PlatformModel
import Reconciler
import StateStore

/// Options every platform command takes.
struct PlatformOptions: ParsableArguments {
    @Option(name: [.short, .customLong("file")], help: "Platform definition (YAML).")
    var file: String

    @Option(help: "State store (SQLite); default /var/lib/virtualplatform/<platform>/state/state.sqlite (or state.sqlite beside it, if made before).")
    var state: String?

    /// A relative --state is taken from the current directory (the store keeps the path it is given).
    func engine() throws -> PlatformEngine { try engine(loaded: try PlatformLoader.load(path: file)) }

    func engine(loaded: LoadedPlatform) throws -> PlatformEngine {
        try PlatformEngine(loaded: loaded, statePath: state.map { URL(fileURLWithPath: $0).path })
    }
}

func printPlan(_ plan: Plan, format: OutputFormat, emptyMessage: String) throws {
    if format == .json { try JSONOutput.print(plan.changes.map(PlanEntry.init)); return }
    if plan.isEmpty { print(emptyMessage); return }
    var table = Table("ACTION", "OBJECT", "HOST", "WHY")
    for change in plan.changes {
        table.add(change.verb.rawValue, change.object, change.host, change.reasons.first ?? "")
        for reason in change.reasons.dropFirst() { table.add("", "", "", reason) }
    }
    print(table.render())
    let counts = Dictionary(grouping: plan.changes, by: \.verb).mapValues(\.count)
    print("\n\(counts[.create] ?? 0) to create, \(counts[.update] ?? 0) to update, \(counts[.delete] ?? 0) to delete")
}

/// "[3/7] create processor demo-p1 on local" on stderr, as each change is made.
@Sendable func sayProgress(_ done: Int, _ total: Int, _ change: Change) {
    Progress.say("[\(done)/\(total)] \(change.verb.rawValue) \(change.object) on \(change.host)")
}

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what apply would change (create / update / delete, per object), changing nothing.")

    @OptionGroup var platform: PlatformOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let plan = try await platform.engine().plan()
        try printPlan(plan, format: output.format, emptyMessage: "no changes: libvirt matches the definition")
    }
}

struct ApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Converge libvirt to the platform definition.",
        discussion: "Validates the whole definition first; on any problem nothing is changed. Drift made by hand is corrected. An apply cut short is completed by the next one.")

    @OptionGroup var platform: PlatformOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let engine = try platform.engine()
        let plan = try await engine.apply(cause: "apply -f \(platform.file)", progress: sayProgress)
        try printPlan(plan, format: output.format, emptyMessage: "no changes: libvirt matches the definition")
        try await platform.resumeDownMoves(on: engine)
    }
}

struct DestroyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "destroy",
        abstract: "Remove everything the platform created (processors, networks, pools, volumes) and nothing else.")

    @OptionGroup var platform: PlatformOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let plan = try await platform.engine().destroy(cause: "destroy -f \(platform.file)", progress: sayProgress)
        try printPlan(plan, format: output.format, emptyMessage: "nothing to destroy")
    }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show processors, VLAN membership, storage mappings and service IPs.",
        discussion: daemonDiscussion)

    @OptionGroup var platform: PlatformOptions
    @OptionGroup var daemon: DaemonOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        print(try Self.text(try await platform.access(daemon).status(), format: output.format))
    }

    static func text(_ status: PlatformStatus, format: OutputFormat) throws -> String {
        if format == .json { return try JSONOutput.text(status) }
        var out = ["PROCESSORS"]
        var procs = Table("NAME", "HOST", "STATE", "ROLE", "PERSONALITY")
        for p in status.processors { procs.add(p.name, p.host, p.state, p.role, p.personality ?? "-") }
        out.append(procs.render())

        if !status.moving.isEmpty {
            out.append("\nMOVES IN PROGRESS")
            var moves = Table("PERSONALITY", "FROM", "TO", "STEP", "SINCE", "WHY")
            for m in status.moving {
                moves.add(m.personality, m.source, m.target ?? "-", m.step.rawValue,
                          m.declaredAt.formatted(.iso8601.time(includingFractionalSeconds: false)), m.reason)
            }
            out.append(moves.render())
        }

        out.append("\nVLAN MEMBERSHIP")
        var matrix = Table(header: ["PERSONALITY", "PROCESSOR"] + status.vlans)
        for person in Set(status.memberships.map(\.personality)).sorted() {
            let rows = status.memberships.filter { $0.personality == person }
            let cells = status.vlans.map { vlan in rows.first { $0.vlan == vlan }.map { "\($0.mac) \($0.ip)" } ?? "-" }
            matrix.rows.append([person, rows.first?.processor ?? "-"] + cells)
        }
        out.append(matrix.render())

        out.append("\nSTORAGE MAPPINGS")
        var disks = Table("PERSONALITY", "PROCESSOR", "TARGET", "VOLUME")
        for d in status.storage { disks.add(d.personality, d.processor ?? "-", d.target, d.volume) }
        out.append(disks.render())

        out.append("\nSERVICE IPS")
        out.append(serviceTable(status.services).render())
        return out.joined(separator: "\n")
    }
}

/// The help of every command that goes through the daemon when it runs.
let daemonDiscussion = """
    Goes through the running vpctl serve (its admin API on /run/virtualplatform/<platform>.sock, or --socket, \
    or --listen with --token-file) when it answers, and works directly on the state store and libvirt when no \
    daemon runs; the output is the same. A socket nobody answers on (left by a serve that crashed) is noted on \
    stderr and the command works directly. An error the daemon answers is the command's error. --direct never \
    asks the daemon.
    """
