import ArgumentParser
import CommandOutput
import Foundation

/// `vp-bench service-throughput`: wrk through the service IP (our nftables data plane), directly
/// to one backend, and through HAProxy (TCP mode, `balance source`) on the same backends, side by
/// side, on a topology of namespaces the bench builds and removes.
struct ServiceThroughputBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "service-throughput",
        abstract: "Requests/s and latency through a service IP, directly to a backend and through HAProxy, side by side (bars: service ≥ 0.95 × direct, ahead of HAProxy).",
        discussion: """
            Builds its own topology: bridge \(ServiceBenchLab.bridge) (10.219.0.1/24), backend namespaces \
            \(ServiceBenchLab.backendPrefix)1… (10.219.0.10, .11, …) running nginx, a client namespace \
            \(ServiceBenchLab.clientNamespace) (10.219.1.10, routed through the host), the service IP \
            \(ServiceBenchLab.serviceIP):80 in nftables table \(ServiceBenchLab.table), and HAProxy on \
            10.219.1.1:8080. Each round runs every path once with wrk (1 thread), in an order rotated per round. \
            Everything is removed at the end, on error and on Ctrl-C; leftovers of a crashed run are removed at start. \
            Needs root, wrk, nginx, haproxy; enables net.ipv4.ip_forward for the run if it is off.
            """)

    @Option(help: "Rounds; each round measures every path once.") var rounds = 3
    @Option(help: "Seconds per wrk run.") var seconds = 10
    @Option(help: "Concurrent connections (wrk -c).") var connections = 32
    @Option(help: "Backends (nginx, one worker each, in namespaces of their own).") var backends = 2
    @Flag(name: .customLong("close"), help: "A new connection per request (Connection: close): the conntrack churn case.")
    var closeConnections = false
    @Flag(help: "Also measure diagnostic paths: direct and service with the table's isolation chain deleted, direct with the table removed, and the service IP through a bare DNAT rule instead of the data plane's table.")
    var diagnose = false
    @Option(help: ArgumentHelp("Paths to measure, comma-separated, from: \(Path.allCases.map(\.rawValue).joined(separator: ", ")). The bars need service, direct and haproxy.", valueName: "paths"))
    var paths = "service,direct,haproxy"
    @Flag(help: "Give each path its own client address (service 10.219.1.10, direct 10.219.1.11, HAProxy 10.219.1.12, chosen by routes in the client namespace), so that the paths never share a connection tuple in conntrack or in the backends' TIME_WAIT sockets. On with --close.")
    var separateSources = false
    @Flag(help: "Set net.ipv4.tcp_tw_reuse=1 in the client namespace, so that a client that closes first (as wrk does through HAProxy with --close) does not run out of ports to TIME_WAIT sockets. On with --close.")
    var clientTwReuse = false
    @OptionGroup var output: OutputOptions

    mutating func validate() throws {
        // With a new connection per request, paths that share a client address collide in conntrack
        // and in the backends' TIME_WAIT sockets, and a client that closes first runs out of ports:
        // both would measure the test set-up, not the paths.
        if closeConnections { separateSources = true; clientTwReuse = true }
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1 (got \(rounds))") }
        guard seconds >= 1 else { throw ValidationError("--seconds must be at least 1 (got \(seconds))") }
        // HAProxy's maxconn is 8000 (it needs two descriptors per connection; the hard limit here is 20000).
        guard (1...8000).contains(connections) else { throw ValidationError("--connections must be between 1 and 8000 (got \(connections))") }
        guard (1...50).contains(backends) else { throw ValidationError("--backends must be between 1 and 50 (got \(backends))") }
        _ = try selectedPaths()
    }

    enum Path: String, Encodable, CaseIterable {
        case service, direct, haproxy
        case directNoIsolation = "direct-no-isolation"
        case directNoTable = "direct-no-table"
        case serviceNoIsolation = "service-no-isolation"
        case serviceBareDNAT = "service-bare-dnat"

        static let diagnostics: [Path] = [.directNoIsolation, .directNoTable, .serviceNoIsolation, .serviceBareDNAT]

        /// Where a path's requests go.
        enum Target { case serviceIP, backend, haproxy }
        var target: Target {
            switch self {
            case .service, .serviceNoIsolation, .serviceBareDNAT: return .serviceIP
            case .direct, .directNoIsolation, .directNoTable: return .backend
            case .haproxy: return .haproxy
            }
        }
        var explanation: String {
            switch self {
            case .service: return "service IP through the vp_bench table (DNAT + isolation + conntrack timeout policy)"
            case .direct: return "directly to backend b1; vp_bench table loaded with no routed bridges (isolation chain runs, lets it cross)"
            case .haproxy: return "HAProxy mode tcp, balance source, on the host end of the client link"
            case .directNoIsolation: return "diagnostic: as direct, with the isolation chain deleted from the table"
            case .directNoTable: return "diagnostic: directly to backend b1 with the vp_bench table removed"
            case .serviceNoIsolation: return "diagnostic: as service, with the isolation chain deleted from the table"
            case .serviceBareDNAT: return "diagnostic: service IP through one bare `dnat to` rule (no vp_bench table) to the backend the service picks"
            }
        }
    }


    var note: String {
        (separateSources ? "One client address per path (service 10.219.1.10, direct 10.219.1.11, HAProxy 10.219.1.12)" : "One client address (10.219.1.10) for every path")
            + ": the source hash sends all of a path's connections to one backend on the service and HAProxy paths, so direct to one backend is the fair baseline."
    }

    func selectedPaths() throws -> [Path] {
        var selected: [Path] = []
        for name in paths.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let path = Path(rawValue: name) else {
                throw ValidationError("--paths: unknown path '\(name)' (known: \(Path.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            if !selected.contains(path) { selected.append(path) }
        }
        if diagnose { selected += Path.diagnostics.filter { !selected.contains($0) } }
        guard !selected.isEmpty else { throw ValidationError("--paths: no path given") }
        return selected
    }

    func run() throws {
        let tools = try ServiceBenchLab.Tools.locate()
        let lab = try ServiceBenchLab(backendCount: backends, tools: tools, separateSources: separateSources, clientTWReuse: clientTwReuse)
        lab.installSignalHandlers()
        defer { lab.teardown() }

        Progress.say("removing leftovers of an earlier run")
        ServiceBenchLab.removeLeftovers(dataPlane: lab.dataPlane)
        if lab.enableForwarding() { Progress.say("net.ipv4.ip_forward was 0: set to 1 for the run, restored at the end") }
        Progress.say("building the topology: bridge \(ServiceBenchLab.bridge), \(backends) backend namespace(s) with nginx, client namespace \(ServiceBenchLab.clientNamespace), HAProxy")
        try lab.build()

        let paths = try selectedPaths()

        // Sanity: one request through each path must answer (the service first: the bare DNAT
        // diagnostic goes to the backend it picks).
        var answeredBy: [Path: String] = [:]
        for path in [Path.service] + paths.filter({ $0 != .service }) {
            if path == .serviceBareDNAT {
                lab.bareDNATTarget = answeredBy[.service].flatMap { lab.backendAddress(named: $0) } ?? lab.backendAddresses[0]
            }
            try lab.prepare(path)
            answeredBy[path] = try lab.sanity(path)
            Progress.say("sanity: \(path.rawValue) (\(lab.url(path)) from \(lab.source(path))) answered by \(answeredBy[path] ?? "?")")
        }
        try lab.prepare(.service)
        let isolation = lab.isolationRefusesDirect()
        Progress.say("isolation: with the service table loaded, a request straight to 10.219.0.10 is \(isolation == true ? "refused (as it should be)" : isolation == false ? "ANSWERED (isolation not effective)" : "not checked (no curl)")")
        if !paths.contains(.service) { answeredBy[.service] = nil }

        let loadBefore = Self.loadAverage()
        var runs: [Path: [WrkRun]] = [:]
        for round in 0..<rounds {
            let order = (0..<paths.count).map { paths[($0 + round) % paths.count] }
            for path in order {
                try lab.prepare(path)
                let run = try lab.wrk(path, connections: connections, seconds: seconds, closeConnections: closeConnections)
                runs[path, default: []].append(run)
                Progress.say("round \(round + 1)/\(rounds) \(path.rawValue): \(Self.f0(run.requestsPerSecond)) req/s, p50 \(Self.f2(run.p50Ms)) ms, p99 \(Self.f2(run.p99Ms)) ms, \(run.requests) requests, CPU \(run.cpuMicrosecondsPerRequest.map { String(format: "%.1f", $0) } ?? "?") µs/req, non-2xx \(run.non2xx), socket errors \(run.socketErrors), conntrack entries \(run.conntrackEntriesAfter.map(String.init) ?? "?")")
            }
        }
        let conntrackAtEnd = ServiceBenchLab.conntrackCount()
        let loadAfter = Self.loadAverage()
        lab.teardown()

        let (summaries, bars) = Self.summarize(paths, runs: runs, answeredBy: answeredBy, lab: lab)
        let result = Result(rounds: rounds, seconds: seconds, connections: connections, backends: backends,
                            connectionPerRequest: closeConnections, separateSources: separateSources, clientTWReuse: clientTwReuse, note: note,
                            ipForwardEnabledForRun: lab.forwardingWasEnabled, isolationRefusesDirect: isolation,
                            conntrack: ConntrackInfo(max: ServiceBenchLab.sysctlInt("net/netfilter/nf_conntrack_max"),
                                                     timeWaitSeconds: ServiceBenchLab.sysctlInt("net/netfilter/nf_conntrack_tcp_timeout_time_wait"),
                                                     entriesAtEnd: conntrackAtEnd),
                            loadAverageBefore: loadBefore, loadAverageAfter: loadAfter, paths: summaries, bars: bars)
        if output.format == .json { try JSONOutput.print(result); return }
        report(result)
    }

    static func loadAverage() -> String? {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)).map { $0.split(separator: " ").prefix(3).joined(separator: " ") }
    }
}
