import AdminAPI
import AdminProtocol
import ArgumentParser
import CommandOutput
import Dispatch
import Failover
import Foundation
import Logging
import MetricsExport
import PlatformEngine
import ServiceLifecycle
import StateStore

extension PlatformOptions {
    /// The platform plus a failover engine sharing its connections and state store.
    func failover(stepDelay: Duration = .zero, metrics: FailoverMetrics = .none) throws -> (platform: PlatformEngine, engine: FailoverEngine) {
        let platform = try engine()
        return (platform, try platform.failoverEngine(stepDelay: stepDelay, metrics: metrics))
    }
}

extension PlatformOptions {
    /// After an apply: moves that were down (no standby) go on with the definition just applied,
    /// which may have added the processor they need. A `vpctl serve` started before the apply
    /// does not know processors added since; it carries on moves that have a target, and watches
    /// the new processors once its definition is reloaded (SIGHUP).
    /// `platform` is the engine that applied: the definition is read once per command.
    func resumeDownMoves(on platform: PlatformEngine) async throws {
        try await Administration(engine: try platform.failoverEngine()).resumeDownMoves { Progress.say($0) }
    }
}

/// Who acted, for the journal: the login name and the host.
var administrator: String {
    let user = ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"] ?? "root"
    return "\(user)@\(ProcessInfo.processInfo.hostName)"
}

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the failover service: detect failed processors and move their personalities to standbys.",
        discussion: """
            Watches every processor that carries a personality through libvirt events (crash, unexpected stop, \
            pause on I/O error, host connection lost) and heartbeats to each of its addresses (primary, then \
            alternates). An address that stops answering is reported unreachable; a processor is declared failed \
            when libvirt says it stopped or when no address answers. Each move is journaled step by step in the \
            state store: if serve is killed, the next serve finishes it. Only one serve may run per platform. \
            Stops cleanly on SIGTERM or Ctrl-C. On SIGHUP the definition file is read again: a valid one is put in \
            force (processors added by `vpctl apply` are watched from then on), one with problems is logged and \
            changes nothing. Logs go to stderr; `vpctl events` shows what happened. \
            The admin API (JSON under /v1, the event stream, /metrics) runs beside it on a Unix socket \
            (mode 0600), or over TCP with --listen and a bearer token from --token-file.
            """)

    @OptionGroup var platform: PlatformOptions

    @OptionGroup var api: AdminAPIOptions

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    @Option(help: "Log lines on stderr: text, or json (one object a line: time, level, label, message, metadata).")
    var logFormat: LogFormat = .text

    @Option(help: ArgumentHelp("Pause after each failover step (milliseconds), for demonstrations and tests.", visibility: .hidden))
    var stepDelayMs: Int = 0

    func run() async throws {
        let level = logLevel, format = logFormat
        LoggingSystem.bootstrap { label in
            switch format {
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            case .json:
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        }
        let logger = Logger(label: "vpctl.serve")
        // What the admin API's /metrics renders.
        let metrics = MetricsRegistry(durationBuckets: FailoverMetrics.durationBuckets)
        let (platformEngine, engine) = try platform.failover(stepDelay: .milliseconds(stepDelayMs),
                                                             metrics: FailoverMetrics(factory: metrics.factory))
        let service = FailoverService(engine: engine, logger: logger, definitionFile: platform.file)
        // Checked before anything starts: a socket in use or a token file others can read stops serve here.
        let server = try AdminServer(api: AdminAPI(platform: platformEngine, service: service, metrics: { metrics.render() }),
                                     listen: try api.address(platform: platformEngine.definition.platform), tokenFile: api.tokenFile)
        // The API stops first on SIGTERM, the failover service last (its step in flight finishes).
        try await service.serviceGroup(alongside: [server], logger: logger).run()
        try? platformEngine.store.record(PlatformEvent(kind: .service, detail: "vpctl serve stopped (pid \(getpid()))"))
        logger.info("stopped")
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
extension LogFormat: ExpressibleByArgument {}

struct FailoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failover",
        abstract: "Move a personality to another processor now (a planned move, same machinery as a failure).",
        discussion: """
            The current processor is shut down (fenced), the personality's NICs, MACs, disks and VLAN memberships move to \
            the target, and the command returns once the personality answers there. The old processor becomes a spare again.

            With --abort, an unfinished move of the personality (planned or after a failure) is stopped. The request is \
            recorded first, so it holds even if this command is killed (vpctl serve carries it out too). Before the old \
            processor is fenced (declared, down, standby-chosen, awaiting-fence) the move ends as `aborted` and the \
            personality stays where it was; a processor declared failed that still runs is no longer failed. From the \
            fence on the personality cannot stay there: its target is given up (fenced, cleaned of the personality, \
            marked failed if it was given anything) and the move goes on to another standby, or `down` if none is free.

            """ + daemonDiscussion)

    @OptionGroup var platform: PlatformOptions
    @OptionGroup var daemon: DaemonOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "The personality to move.")
    var personality: String

    @Option(name: .customLong("to"), help: "The processor to move it to (default: a standby, chosen as for a failure).")
    var target: String?

    @Flag(help: "Stop the unfinished move of the personality (see below for what each step leaves).")
    var abort = false

    func validate() throws {
        if abort && target != nil { throw ValidationError("--abort and --to cannot be used together") }
    }

    func run() async throws {
        print(try await Self.text(try platform.access(daemon), personality: personality, to: target, abort: abort, format: output.format))
    }

    static func text(_ access: any PlatformAccess, personality: String, to target: String?, abort: Bool,
                     format: OutputFormat) async throws -> String {
        if abort {
            let record = try await access.abort(personality)
            if format == .json { return try JSONOutput.text(record) }
            return record.step == .aborted ? "the move of \(record.personality) is aborted; it stays on \(record.source)"
                : "\(record.source) was already fenced: the move of \(record.personality) goes on to another standby (step \(record.step.rawValue); vpctl events)"
        }
        let started = ContinuousClock.now
        let record = try await access.move(personality, to: target)
        let elapsed = ContinuousClock.now - started
        if format == .json { return try JSONOutput.text(record) }
        return "\(record.personality) moved from \(record.source) to \(record.target ?? "?") in \(elapsed.formatted(.units(allowed: [.seconds, .milliseconds], width: .narrow)))"
    }
}

struct FenceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fence",
        abstract: "Stop a processor and confirm it is off, or vouch that it is (--confirm).",
        discussion: "Without --confirm, the processor is destroyed through libvirt and marked failed; a personality it carried is moved by vpctl serve. With --confirm, nothing is stopped: you state that the processor is off (e.g. its host is powered down), which lets a waiting failover move its volumes and MACs.\n\n" + daemonDiscussion)

    @OptionGroup var platform: PlatformOptions
    @OptionGroup var daemon: DaemonOptions

    @Argument(help: "The processor.")
    var processor: String

    @Flag(help: "Vouch that the processor is off when libvirt cannot confirm it.")
    var confirm = false

    func run() async throws {
        print(try await platform.access(daemon).fence(processor, confirm: confirm))
    }
}

struct RepairCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repair",
        abstract: "Return a failed processor to the standby pool, clean of any personality.",
        discussion: daemonDiscussion)

    @OptionGroup var platform: PlatformOptions
    @OptionGroup var daemon: DaemonOptions

    @Argument(help: "The processor.")
    var processor: String

    func run() async throws {
        print(try await platform.access(daemon).repair(processor))
    }
}

struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Show detections, adapter state changes, failover steps (with durations) and alerts.",
        discussion: daemonDiscussion)

    @OptionGroup var platform: PlatformOptions
    @OptionGroup var daemon: DaemonOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "How many past events to show.")
    var last = 50

    @Flag(help: "Keep printing new events as they happen.")
    var follow = false

    func run() async throws {
        let access = try platform.access(daemon)
        let events = try await access.events(last: last)
        if output.format == .json && !follow { try JSONOutput.print(events); return }
        if output.format == .table { print(Self.header) }
        for event in events { print(try Self.text(event, format: output.format)) }
        guard follow else { return }
        fflush(nil)
        // From the last one shown; with none shown, from the newest there is (none: from the start).
        var after = events.last?.id
        if after == nil { after = try await access.events(last: 1).last?.id }
        for try await event in try await access.follow(after: after ?? 0) {
            print(try Self.text(event, format: output.format))
            fflush(nil)
        }
    }
}

extension EventsCommand {
    static var header: String { line("TIME", "KIND", "PROCESSOR", "PERSONALITY", "TOOK", "DETAIL") }

    /// One event: a table line, or with `-o json` one compact JSON object.
    static func text(_ e: PlatformEvent, format: OutputFormat) throws -> String {
        if format == .json { return try JSONOutput.line(e) }
        let (whole, milliseconds) = WireJSON.split(e.time)
        let time = whole.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: false)) + String(format: ".%03d", milliseconds)
        return line(time, e.kind.rawValue, e.processor ?? "-", e.personality ?? "-",
                    e.durationMs.map { String(format: "%.0f ms", $0) } ?? "", e.detail)
    }

    /// Fixed columns, so lines printed while following line up with the first ones.
    static func line(_ time: String, _ kind: String, _ processor: String, _ personality: String, _ took: String, _ detail: String) -> String {
        func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: max(n, s.count), withPad: " ", startingAt: 0) }
        return [pad(time, 24), pad(kind, 19), pad(processor, 12), pad(personality, 12), pad(took, 8), detail].joined(separator: " ")
    }
}
