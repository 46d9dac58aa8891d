import ArgumentParser
import CommandOutput
import Foundation
import NetLab
import ServiceBalancing
import ServiceDataPlane
#if canImport(Glibc)
import Glibc
#endif

// MARK: - vp-bench service-throughput

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

    struct PathSummary: Encodable {
        var path: Path
        var target: String
        /// The client address the path's connections come from.
        var source: String
        var description: String
        /// The backend that answered the sanity request (the body nginx returns).
        var answeredBy: String?
        var runs: [WrkRun]
        var medianRequestsPerSecond: Double
        var medianP50Ms: Double
        var worstP99Ms: Double
        var non2xx: Int
        var socketErrors: Int
        var ratioToDirect: Double?
        /// Median over rounds of this path's req/s over direct's req/s in the same round (pairs
        /// runs that saw the same background load).
        var pairedRatioToDirect: Double?
        var medianCPUMicrosecondsPerRequest: Double?
        var medianClientCPUMicrosecondsPerRequest: Double?
        var medianServerCPUMicrosecondsPerRequest: Double?
    }

    struct Bars: Encodable {
        var serviceOverDirect: Double
        var serviceOverDirectBar: Double
        var serviceOverDirectMet: Bool
        var haproxyOverDirect: Double
        var serviceAheadOfHAProxy: Bool
        var serviceRequestsPerSecond: Double
        var haproxyRequestsPerSecond: Double
    }

    struct Result: Encodable {
        var rounds: Int, seconds: Int, connections: Int, backends: Int
        var connectionPerRequest: Bool
        var separateSources: Bool
        var clientTWReuse: Bool
        var note: String
        var ipForwardEnabledForRun: Bool
        /// With the service's table loaded, a request straight to a backend is refused (the
        /// isolation chain is really in the service path).
        var isolationRefusesDirect: Bool?
        var conntrack: ConntrackInfo
        /// /proc/loadavg before and after the measurements: other work on the machine skews them.
        var loadAverageBefore: String?
        var loadAverageAfter: String?
        var paths: [PathSummary]
        /// Nil when --paths left out service, direct or haproxy.
        var bars: Bars?
    }

    struct ConntrackInfo: Encodable { var max: Int?; var timeWaitSeconds: Int?; var entriesAtEnd: Int? }

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

        func median(_ xs: [Double]) -> Double { Timings(samples: xs).median }
        var summaries = paths.map { path -> PathSummary in
            let r = runs[path] ?? []
            return PathSummary(path: path, target: lab.url(path), source: lab.source(path), description: path.explanation, answeredBy: answeredBy[path], runs: r,
                               medianRequestsPerSecond: median(r.map(\.requestsPerSecond)), medianP50Ms: median(r.map(\.p50Ms)),
                               worstP99Ms: r.map(\.p99Ms).max() ?? 0, non2xx: r.reduce(0) { $0 + $1.non2xx },
                               socketErrors: r.reduce(0) { $0 + $1.socketErrors }, ratioToDirect: nil, pairedRatioToDirect: nil,
                               medianCPUMicrosecondsPerRequest: r.contains { $0.cpuMicrosecondsPerRequest == nil } ? nil : median(r.compactMap(\.cpuMicrosecondsPerRequest)),
                               medianClientCPUMicrosecondsPerRequest: r.contains { $0.clientCPUMicrosecondsPerRequest == nil } ? nil : median(r.compactMap(\.clientCPUMicrosecondsPerRequest)),
                               medianServerCPUMicrosecondsPerRequest: r.contains { $0.serverCPUMicrosecondsPerRequest == nil } ? nil : median(r.compactMap(\.serverCPUMicrosecondsPerRequest)))
        }
        let direct = summaries.first { $0.path == .direct }?.medianRequestsPerSecond ?? 0
        let directRuns = runs[.direct] ?? []
        for i in summaries.indices {
            summaries[i].ratioToDirect = direct > 0 ? summaries[i].medianRequestsPerSecond / direct : nil
            let pairs = zip(summaries[i].runs, directRuns).filter { $0.1.requestsPerSecond > 0 }.map { $0.0.requestsPerSecond / $0.1.requestsPerSecond }
            summaries[i].pairedRatioToDirect = pairs.isEmpty ? nil : median(pairs)
        }
        var bars: Bars?
        if let service = summaries.first(where: { $0.path == .service }), let haproxy = summaries.first(where: { $0.path == .haproxy }), direct > 0 {
            bars = Bars(serviceOverDirect: service.ratioToDirect ?? 0, serviceOverDirectBar: 0.95,
                        serviceOverDirectMet: (service.ratioToDirect ?? 0) >= 0.95, haproxyOverDirect: haproxy.ratioToDirect ?? 0,
                        serviceAheadOfHAProxy: service.medianRequestsPerSecond > haproxy.medianRequestsPerSecond,
                        serviceRequestsPerSecond: service.medianRequestsPerSecond, haproxyRequestsPerSecond: haproxy.medianRequestsPerSecond)
        }
        let result = Result(rounds: rounds, seconds: seconds, connections: connections, backends: backends,
                            connectionPerRequest: closeConnections, separateSources: separateSources, clientTWReuse: clientTwReuse, note: note,
                            ipForwardEnabledForRun: lab.forwardingWasEnabled, isolationRefusesDirect: isolation,
                            conntrack: ConntrackInfo(max: ServiceBenchLab.sysctlInt("net/netfilter/nf_conntrack_max"),
                                                     timeWaitSeconds: ServiceBenchLab.sysctlInt("net/netfilter/nf_conntrack_tcp_timeout_time_wait"),
                                                     entriesAtEnd: conntrackAtEnd),
                            loadAverageBefore: loadBefore, loadAverageAfter: loadAfter, paths: summaries, bars: bars)
        if output.format == .json { try JSONOutput.print(result); return }

        print("service throughput: wrk -t1 -c\(connections) -d\(seconds)s --latency\(closeConnections ? " -H 'Connection: close' (new connection per request)" : " (keep-alive)"), \(rounds) round(s), \(backends) nginx backend(s)")
        print("note: \(note)")
        if clientTwReuse { print("note: net.ipv4.tcp_tw_reuse=1 in the client namespace") }
        if lab.forwardingWasEnabled { print("note: net.ipv4.ip_forward was 0; set to 1 for the run and restored") }
        var table = Table("PATH", "TARGET", "FROM", "ANSWERED BY", "REQ/S (median)", "P50 ms (median)", "P99 ms (worst)", "NON-2XX", "SOCKET ERR",
                          "× DIRECT", "× DIRECT (paired)", "CPU µs/req client+server")
        for s in summaries {
            let cpu = s.medianCPUMicrosecondsPerRequest.map { c in
                String(format: "%.1f (%.1f+%.1f)", c, s.medianClientCPUMicrosecondsPerRequest ?? 0, s.medianServerCPUMicrosecondsPerRequest ?? 0)
            } ?? "-"
            table.add(s.path.rawValue, s.target, s.source, s.answeredBy ?? "?", Self.f0(s.medianRequestsPerSecond), Self.f2(s.medianP50Ms),
                      Self.f2(s.worstP99Ms), String(s.non2xx), String(s.socketErrors), s.ratioToDirect.map { String(format: "%.3f", $0) } ?? "-",
                      s.pairedRatioToDirect.map { String(format: "%.3f", $0) } ?? "-", cpu)
        }
        print(table.render())
        print("")
        if let bars {
            var barTable = Table("BAR", "MEASURED", "MET")
            barTable.add("service ≥ 0.95 × direct", String(format: "%.3f × direct", bars.serviceOverDirect), bars.serviceOverDirectMet ? "yes" : "NO")
            barTable.add("service ahead of HAProxy", "\(Self.f0(bars.serviceRequestsPerSecond)) vs \(Self.f0(bars.haproxyRequestsPerSecond)) req/s (HAProxy \(String(format: "%.3f", bars.haproxyOverDirect)) × direct)",
                         bars.serviceAheadOfHAProxy ? "yes" : "NO")
            print(barTable.render())
        } else {
            print("bars: not evaluated (they need the service, direct and haproxy paths)")
        }
        print("")
        for s in summaries { print("\(s.path.rawValue): \(s.description)") }
        print("isolation check (service table loaded, straight to a backend): \(isolation == true ? "refused" : isolation == false ? "answered — isolation NOT effective" : "not checked")")
        print("conntrack: \(conntrackAtEnd.map(String.init) ?? "?") entries at the end (max \(result.conntrack.max.map(String.init) ?? "?"), default TCP TIME_WAIT \(result.conntrack.timeWaitSeconds.map(String.init) ?? "?") s; the service's flows get 2 s)")
        print("load average (1/5/15 min) before: \(loadBefore ?? "?"), after: \(loadAfter ?? "?") (\(ProcessInfo.processInfo.activeProcessorCount) CPUs; other work on the machine skews the numbers)")
        print("× DIRECT (paired): median over rounds of req/s ÷ direct's req/s in the same round. CPU µs/req: user+system time of wrk (client) and of nginx + HAProxy (server) per request, median over rounds; it includes the kernel's forwarding/NAT/nftables work done in their context and is less sensitive to other load than req/s.")
        print("per-round runs (req/s): " + summaries.map { "\($0.path.rawValue) " + $0.runs.map { Self.f0($0.requestsPerSecond) }.joined(separator: "/") }.joined(separator: "; "))
    }

    static func loadAverage() -> String? {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)).map { $0.split(separator: " ").prefix(3).joined(separator: " ") }
    }

    static func f0(_ v: Double) -> String { String(format: "%.0f", v) }
    static func f2(_ v: Double) -> String { String(format: "%.2f", v) }
}

/// One wrk run, parsed.
struct WrkRun: Encodable {
    var requestsPerSecond: Double
    var p50Ms: Double
    var p99Ms: Double
    var requests: Int
    var non2xx: Int
    var socketErrors: Int
    var socketErrorDetail: String?
    var conntrackEntriesAfter: Int?
    /// CPU time (user + system, which here includes the softirq work of forwarding, NAT and
    /// nftables done while the process ran) of wrk, per request.
    var clientCPUMicrosecondsPerRequest: Double?
    /// The same for the servers: every nginx process and HAProxy (idle ones add almost nothing).
    var serverCPUMicrosecondsPerRequest: Double?
    /// Sum of both: the path's cost per request, far less sensitive to other load on the machine
    /// than requests/s.
    var cpuMicrosecondsPerRequest: Double? {
        guard let c = clientCPUMicrosecondsPerRequest, let s = serverCPUMicrosecondsPerRequest else { return nil }
        return c + s
    }

    enum CodingKeys: String, CodingKey {
        case requestsPerSecond, p50Ms, p99Ms, requests, non2xx, socketErrors, socketErrorDetail, conntrackEntriesAfter,
             clientCPUMicrosecondsPerRequest, serverCPUMicrosecondsPerRequest, cpuMicrosecondsPerRequest
    }
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(requestsPerSecond, forKey: .requestsPerSecond); try c.encode(p50Ms, forKey: .p50Ms)
        try c.encode(p99Ms, forKey: .p99Ms); try c.encode(requests, forKey: .requests); try c.encode(non2xx, forKey: .non2xx)
        try c.encode(socketErrors, forKey: .socketErrors); try c.encodeIfPresent(socketErrorDetail, forKey: .socketErrorDetail)
        try c.encodeIfPresent(conntrackEntriesAfter, forKey: .conntrackEntriesAfter)
        try c.encodeIfPresent(clientCPUMicrosecondsPerRequest, forKey: .clientCPUMicrosecondsPerRequest)
        try c.encodeIfPresent(serverCPUMicrosecondsPerRequest, forKey: .serverCPUMicrosecondsPerRequest)
        try c.encodeIfPresent(cpuMicrosecondsPerRequest, forKey: .cpuMicrosecondsPerRequest)
    }

    /// Parses `wrk --latency` output.
    static func parse(_ text: String) throws -> WrkRun {
        var rps: Double?, p50: Double?, p99: Double?
        var requests = 0, non2xx = 0, socketErrors = 0
        var detail: String?
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            if line.hasPrefix("Requests/sec:"), words.count >= 2 { rps = Double(words[1]) }
            else if words.count == 2, words[0] == "50%" { p50 = milliseconds(words[1]) }
            else if words.count == 2, words[0] == "99%" { p99 = milliseconds(words[1]) }
            else if line.hasPrefix("Non-2xx or 3xx responses:"), let n = words.last.flatMap({ Int($0) }) { non2xx = n }
            else if line.hasPrefix("Socket errors:") {
                detail = line
                // "Socket errors: connect 0, read 0, write 0, timeout 0"
                socketErrors = words.compactMap { Int($0.trimmingCharacters(in: CharacterSet(charactersIn: ","))) }.reduce(0, +)
            } else if words.count >= 3, words[1] == "requests", words[2] == "in", let n = Int(words[0]) { requests = n }
        }
        guard let rps, let p50, let p99 else { throw ServiceBenchError("could not read wrk's output:\n\(text)") }
        return WrkRun(requestsPerSecond: rps, p50Ms: p50, p99Ms: p99, requests: requests, non2xx: non2xx,
                      socketErrors: socketErrors, socketErrorDetail: detail)
    }

    /// "812.00us", "1.23ms", "2.00s", "1.00m" → milliseconds.
    static func milliseconds(_ s: String) -> Double? {
        for (unit, factor) in [("us", 0.001), ("ms", 1.0), ("s", 1000.0), ("m", 60_000.0), ("h", 3_600_000.0)] where s.hasSuffix(unit) {
            return Double(s.dropLast(unit.count)).map { $0 * factor }
        }
        return nil
    }
}

/// The bench's topology and processes; removes all of it exactly once (normal end, error or signal).
final class ServiceBenchLab: @unchecked Sendable {
    static let bridge = "vpbnch0"
    static let table = ServiceRuleset.tableName(platform: ServiceBenchService.platform)
    static let diagTable = "vp_bench_diag"
    static let clientNamespace = "vpbcl"
    static let backendPrefix = "vpbb"
    static let serviceIP = "10.219.9.1"
    static let clientAddress = "10.219.1.10"
    static let haproxyAddress = "10.219.1.1:8080"
    static let hostBridgeAddress = "10.219.0.1"
    /// Fixed so that a later run finds (and stops) the processes of a crashed one by their pid files.
    static let directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("vpctl-bench-service")

    struct Tools {
        var wrk: String, nginx: String, haproxy: String, curl: String?
        static func locate() throws -> Tools {
            func find(_ name: String, package: String) throws -> String {
                guard let path = which(name) else { throw ServiceBenchError("\(name) is not installed (Debian package '\(package)'); the service-throughput bench needs it") }
                return path
            }
            return Tools(wrk: try find("wrk", package: "wrk"), nginx: try find("nginx", package: "nginx"),
                         haproxy: try find("haproxy", package: "haproxy"), curl: which("curl"))
        }
        static func which(_ name: String) -> String? {
            ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin"].map { "\($0)/\(name)" }
                .first { FileManager.default.isExecutableFile(atPath: $0) }
        }
    }

    let dataPlane: DataPlane
    let service: ServiceBenchService
    let tools: Tools
    let backendCount: Int
    var backendAddresses: [String] { (0..<backendCount).map { "10.219.0.\(10 + $0)" } }
    var backendNames: [String] { (0..<backendCount).map { "b\($0 + 1)" } }
    /// Target of the diagnostic bare DNAT rule.
    var bareDNATTarget = "10.219.0.10"

    private let lock = NSLock()
    private var processes: [Process] = []
    private var tornDown = false
    private var oldForwarding: String?
    private var signalSources: [any DispatchSourceSignal] = []
    private(set) var forwardingWasEnabled = false

    let separateSources: Bool
    let clientTWReuse: Bool

    init(backendCount: Int, tools: Tools, separateSources: Bool, clientTWReuse: Bool) throws {
        self.separateSources = separateSources
        self.clientTWReuse = clientTWReuse
        guard geteuid() == 0 else { throw ServiceBenchError("the service-throughput bench needs root (namespaces, nftables, ip_forward)") }
        self.backendCount = backendCount
        self.tools = tools
        do { dataPlane = try DataPlane() } catch { throw ServiceBenchError("nftables is not usable: \(error)") }
        service = try ServiceBenchService(bridge: Self.bridge, address: Self.serviceIP,
                                          backends: (0..<backendCount).map { (name: "b\($0 + 1)", address: "10.219.0.\(10 + $0)") })
    }

    func backendAddress(named name: String) -> String? {
        backendNames.firstIndex(of: name).map { backendAddresses[$0] }
    }

    /// The client address a path's connections come from (the client namespace's routes pick it).
    func source(_ path: ServiceThroughputBench.Path) -> String {
        guard separateSources else { return Self.clientAddress }
        switch path {
        case .service, .serviceNoIsolation, .serviceBareDNAT: return "10.219.1.10"
        case .direct, .directNoIsolation, .directNoTable: return "10.219.1.11"
        case .haproxy: return "10.219.1.12"
        }
    }

    func url(_ path: ServiceThroughputBench.Path) -> String {
        switch path {
        case .service, .serviceNoIsolation, .serviceBareDNAT: return "http://\(Self.serviceIP)/"
        case .direct, .directNoIsolation, .directNoTable: return "http://\(backendAddresses[0])/"
        case .haproxy: return "http://\(Self.haproxyAddress)/"
        }
    }

    // MARK: Signals and teardown

    func installSignalHandlers() {
        signalSources = onInterrupt { [self] number in
            Progress.say("signal \(number): removing the bench topology")
            teardown()
            exit(130)
        }
    }

    /// Stops the processes, removes namespaces, bridge and tables, restores ip_forward. Once.
    func teardown() {
        lock.lock()
        defer { lock.unlock() }
        guard !tornDown else { return }
        tornDown = true
        for p in processes.reversed() { Self.stop(p) }
        processes.removeAll()
        Self.removeLeftovers(dataPlane: dataPlane)
        if let old = oldForwarding {
            try? old.write(toFile: "/proc/sys/net/ipv4/ip_forward", atomically: false, encoding: .utf8)
            oldForwarding = nil
        }
    }

    private func track(_ p: Process) {
        lock.lock(); defer { lock.unlock() }
        processes.append(p)
    }

    private func untrack(_ p: Process) {
        lock.lock(); defer { lock.unlock() }
        processes.removeAll { $0 === p }
    }

    /// SIGTERM (nginx and HAProxy stop their workers on it), SIGKILL after 3 s.
    static func stop(_ p: Process) {
        guard p.isRunning else { return }
        kill(p.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(3)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
    }

    /// Everything a run of this bench creates, whether or not this process created it: processes
    /// named by the pid files in `directory` (checked against their command line first), the
    /// tables, the namespaces, the bridge, the directory.
    static func removeLeftovers(dataPlane: DataPlane) {
        let fm = FileManager.default
        if let files = try? fm.contentsOfDirectory(atPath: directory.path) {
            for file in files where file.hasSuffix(".pid") {
                let pidFile = directory.appendingPathComponent(file).path
                guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
                      let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1 else { continue }
                let cmdline = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")))
                    .map { String(decoding: $0.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self) } ?? ""
                guard cmdline.contains(directory.path) else { continue }
                kill(pid, SIGTERM)
                for _ in 0..<150 where kill(pid, 0) == 0 { usleep(20_000) }
                if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
            }
        }
        try? dataPlane.remove(table: table)
        try? dataPlane.remove(table: diagTable)
        let namespaces = ((try? Command.run("ip", ["netns", "list"], allowFailure: true)) ?? "")
            .split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
        for ns in namespaces where ns == clientNamespace || (ns.hasPrefix(backendPrefix) && Int(ns.dropFirst(backendPrefix.count)) != nil) {
            if ns == clientNamespace { try? ClientNetwork.remove(name: ns) }
            else { _ = try? Command.run("ip", ["netns", "del", ns], allowFailure: true) }
        }
        _ = try? Command.run("ip", ["link", "del", bridge], allowFailure: true)
        // Connection tracking entries of the bench's addresses (TIME_WAIT lasts 120 s by default):
        // a later run must not start with this run's state.
        for selector in ["--orig-src", "--orig-dst"] {
            _ = try? Command.run("conntrack", ["-D", selector, "10.219.0.0/16"], allowFailure: true)
        }
        try? fm.removeItem(at: directory)
    }

    // MARK: Setup

    /// Sets ip_forward to 1 if it is 0; true when it did (teardown restores it).
    func enableForwarding() -> Bool {
        guard !ClientNetwork.hostForwards() else { return false }
        let old = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_forward", encoding: .utf8)) ?? "0\n"
        lock.lock()
        oldForwarding = old
        lock.unlock()
        try? "1".write(toFile: "/proc/sys/net/ipv4/ip_forward", atomically: false, encoding: .utf8)
        forwardingWasEnabled = true
        return true
    }

    func build() throws {
        let fm = FileManager.default
        try fm.createDirectory(at: Self.directory, withIntermediateDirectories: true)
        // nginx workers run as nobody and open nothing here, but let them read the directory.
        try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: Self.directory.path)

        try Command.run("ip", ["link", "add", Self.bridge, "type", "bridge"])
        try Command.run("ip", ["addr", "add", "\(Self.hostBridgeAddress)/24", "dev", Self.bridge])
        try Command.run("ip", ["link", "set", Self.bridge, "up"])
        for (i, address) in backendAddresses.enumerated() {
            let ns = "\(Self.backendPrefix)\(i + 1)"
            try Command.run("ip", ["netns", "add", ns])
            try Command.run("ip", ["link", "add", "\(ns)-h", "type", "veth", "peer", "name", "\(ns)-c", "netns", ns])
            try Command.run("ip", ["link", "set", "\(ns)-h", "master", Self.bridge])
            try Command.run("ip", ["link", "set", "\(ns)-h", "up"])
            try Command.run("ip", ["netns", "exec", ns, "ip", "link", "set", "lo", "up"])
            try Command.run("ip", ["netns", "exec", ns, "ip", "addr", "add", "\(address)/24", "dev", "\(ns)-c"])
            try Command.run("ip", ["netns", "exec", ns, "ip", "link", "set", "\(ns)-c", "up"])
            try Command.run("ip", ["netns", "exec", ns, "ip", "route", "add", "default", "via", Self.hostBridgeAddress])
            let conf = Self.directory.appendingPathComponent("nginx-\(backendNames[i]).conf").path
            try nginxConfig(name: backendNames[i]).write(toFile: conf, atomically: true, encoding: .utf8)
            try start("ip", ["netns", "exec", ns, tools.nginx, "-c", conf], log: "nginx-\(backendNames[i]).out")
        }
        let client = try ClientNetwork.create(name: Self.clientNamespace, subnet: "10.219.1", clients: separateSources ? 3 : 1)
        precondition(client.clients.first == Self.clientAddress)
        if clientTWReuse { try client.exec("sysctl", ["-q", "-w", "net.ipv4.tcp_tw_reuse=1"]) }
        if separateSources {
            // The source address of a connection is the route's preferred source: one per path.
            let dev = "\(Self.clientNamespace)-c"
            try client.exec("ip", ["route", "replace", "default", "via", client.hostAddress, "src", source(.service)])
            try client.exec("ip", ["route", "replace", "10.219.0.0/24", "via", client.hostAddress, "src", source(.direct)])
            try client.exec("ip", ["route", "replace", "\(client.hostAddress)/32", "dev", dev, "src", source(.haproxy)])
        }

        let haproxyConf = Self.directory.appendingPathComponent("haproxy.cfg").path
        try haproxyConfig().write(toFile: haproxyConf, atomically: true, encoding: .utf8)
        let haproxy = try start(tools.haproxy, ["-f", haproxyConf, "-db"], log: "haproxy.out")
        // Its pid file, for the leftover sweep of a later run (its command line names the config).
        try String(haproxy.processIdentifier).write(to: Self.directory.appendingPathComponent("haproxy.pid"), atomically: true, encoding: .utf8)
    }

    @discardableResult
    private func start(_ tool: String, _ arguments: [String], log: String) throws -> Process {
        let logURL = Self.directory.appendingPathComponent(log)
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let handle = try FileHandle(forWritingTo: logURL)
        let p = try Command.start(tool, arguments, output: handle)
        try? handle.close()
        track(p)
        return p
    }

    func nginxConfig(name: String) -> String {
        let d = Self.directory.path
        return """
            worker_processes 1;
            daemon off;
            pid \(d)/nginx-\(name).pid;
            error_log \(d)/nginx-\(name).error.log warn;
            events { worker_connections 8192; }
            http {
                access_log off;
                keepalive_requests 1000000;
                keepalive_timeout 300s;
                client_body_temp_path \(d)/nginx-\(name)-body;
                proxy_temp_path \(d)/nginx-\(name)-proxy;
                fastcgi_temp_path \(d)/nginx-\(name)-fastcgi;
                uwsgi_temp_path \(d)/nginx-\(name)-uwsgi;
                scgi_temp_path \(d)/nginx-\(name)-scgi;
                server {
                    listen 80;
                    location / { default_type text/plain; return 200 "\(name)\\n"; }
                }
            }

            """
    }

    func haproxyConfig() -> String {
        var c = """
            global
                nbthread 1
                maxconn 8000
            defaults
                mode tcp
                timeout connect 5s
                timeout client 60s
                timeout server 60s
            frontend bench
                bind \(Self.haproxyAddress)
                maxconn 8000
                default_backend backends
            backend backends
                balance source

            """
        for (name, address) in zip(backendNames, backendAddresses) { c += "    server \(name) \(address):80 maxconn 8000\n" }
        return c
    }

    /// Loads the nftables state the path is measured with.
    func prepare(_ path: ServiceThroughputBench.Path) throws {
        try? dataPlane.remove(table: Self.diagTable)
        switch path {
        case .service, .haproxy:
            // HAProxy's own connections to the backends leave the host (output), not forwarded:
            // the isolation chain does not see them either way.
            try dataPlane.program(service.ruleset(routedBridges: [Self.bridge]))
        case .direct:
            // The same table with no routed bridges: the isolation chain still runs on every
            // forwarded packet (the same set lookups as on the service path) but lets the direct
            // flow cross, so both paths do comparable per-packet work in nftables.
            try dataPlane.program(service.ruleset(routedBridges: []))
        case .directNoIsolation, .serviceNoIsolation:
            try dataPlane.program(service.ruleset(routedBridges: path == .serviceNoIsolation ? [Self.bridge] : []))
            try Command.run("nft", ["flush", "chain", "ip", Self.table, "isolation"])
            try Command.run("nft", ["delete", "chain", "ip", Self.table, "isolation"])
        case .directNoTable:
            try dataPlane.remove(table: Self.table)
        case .serviceBareDNAT:
            try dataPlane.remove(table: Self.table)
            let file = Self.directory.appendingPathComponent("bare-dnat.nft").path
            try """
                table ip \(Self.diagTable) {
                    chain dnat_prerouting {
                        type nat hook prerouting priority -100; policy accept;
                        ip daddr \(Self.serviceIP) tcp dport 80 dnat to \(bareDNATTarget)
                    }
                }

                """.write(toFile: file, atomically: true, encoding: .utf8)
            try Command.run("nft", ["-f", file])
        }
    }

    /// One request through the path; the answering backend's name. Retries for a few seconds
    /// while nginx and HAProxy start.
    func sanity(_ path: ServiceThroughputBench.Path) throws -> String {
        let target = url(path)
        var last = ""
        for _ in 0..<25 {
            if let curl = tools.curl {
                let out = try Command.run("ip", ["netns", "exec", Self.clientNamespace, curl, "-s", "-S", "-m", "2", target], allowFailure: true)
                let body = out.trimmingCharacters(in: .whitespacesAndNewlines)
                if backendNames.contains(body) { return body }
                last = body.isEmpty ? "no answer" : "unexpected answer '\(body.prefix(80))'"
            } else {
                let out = try Command.run("ip", ["netns", "exec", Self.clientNamespace, tools.wrk, "-t1", "-c1", "-d1s", target], allowFailure: true)
                if let run = try? WrkRun.parse(out + "\n50% 0us\n99% 0us"), run.requests > 0, run.socketErrors == 0, run.non2xx == 0 { return "?" }
                last = out
            }
            usleep(200_000)
        }
        throw ServiceBenchError("sanity check failed: \(path.rawValue) (\(target)) from namespace \(Self.clientNamespace): \(last)\(logTail())")
    }

    private func logTail() -> String {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: Self.directory.path)) ?? []
        var s = ""
        for f in files.sorted() where f.hasSuffix(".out") || f.hasSuffix(".error.log") {
            if let t = try? String(contentsOfFile: Self.directory.appendingPathComponent(f).path, encoding: .utf8), !t.isEmpty {
                s += "\n--- \(f):\n" + t.split(separator: "\n").suffix(5).joined(separator: "\n")
            }
        }
        return s
    }

    /// With the service's table loaded, a request straight to a backend must not cross the bridge.
    func isolationRefusesDirect() -> Bool? {
        guard let curl = tools.curl else { return nil }
        let out = (try? Command.run("ip", ["netns", "exec", Self.clientNamespace, curl, "-s", "-m", "1", url(.direct)], allowFailure: true)) ?? ""
        return !backendNames.contains(out.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func wrk(_ path: ServiceThroughputBench.Path, connections: Int, seconds: Int, closeConnections: Bool) throws -> WrkRun {
        let outURL = Self.directory.appendingPathComponent("wrk.out")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        let handle = try FileHandle(forWritingTo: outURL)
        var args = ["netns", "exec", Self.clientNamespace, tools.wrk, "-t1", "-c\(connections)", "-d\(seconds)s", "--latency"]
        if closeConnections { args += ["-H", "Connection: close"] }
        args.append(url(path))
        let serversBefore = serverCPUSeconds()
        let clientBefore = Self.childrenCPUSeconds()
        let p = try Command.start("ip", args, output: handle)
        track(p)
        p.waitUntilExit()
        untrack(p)
        // wrk was reaped by this process: its CPU time is now in RUSAGE_CHILDREN (`ip netns exec`
        // execs wrk in place, so the child is wrk).
        let clientCPU = Self.childrenCPUSeconds() - clientBefore
        let serverCPU = serverCPUSeconds() - serversBefore
        try? handle.close()
        let text = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
        guard p.terminationStatus == 0 else { throw ServiceBenchError("wrk for \(path.rawValue) failed (\(p.terminationStatus)): \(text)") }
        var run = try WrkRun.parse(text)
        run.conntrackEntriesAfter = Self.conntrackCount()
        if run.requests > 0 {
            run.clientCPUMicrosecondsPerRequest = clientCPU / Double(run.requests) * 1e6
            run.serverCPUMicrosecondsPerRequest = serverCPU / Double(run.requests) * 1e6
        }
        return run
    }

    static func childrenCPUSeconds() -> Double {
        var usage = rusage()
        _ = getrusage(__rusage_who_t(RUSAGE_CHILDREN.rawValue), &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// User + system seconds of the server processes (nginx masters, their workers, HAProxy).
    func serverCPUSeconds() -> Double {
        let roots = processesSnapshot().map(\.processIdentifier)
        var pids = roots
        for pid in roots {
            let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
            pids += children.split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return pids.reduce(0.0) { total, pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return total }
            // Fields after "(comm)": state is field 3, utime 14, stime 15.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 13, let u = Double(fields[11]), let s = Double(fields[12]) else { return total }
            return total + (u + s) / ticks
        }
    }

    private func processesSnapshot() -> [Process] {
        lock.lock(); defer { lock.unlock() }
        return processes.filter(\.isRunning)
    }

    static func conntrackCount() -> Int? { sysctlInt("net/netfilter/nf_conntrack_count") }

    static func sysctlInt(_ name: String) -> Int? {
        (try? String(contentsOfFile: "/proc/sys/\(name)", encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
}

// MARK: - vp-bench maglev

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

    func paperFigures(balance: [Balance], disruption: [Disruption]) -> [PaperFigure] {
        var figures: [PaperFigure] = []
        let held = balance.filter(\.floorCeilHolds).count
        figures.append(PaperFigure(figure: "§3.4 equal weights: each backend gets ⌊M/N⌋ or ⌈M/N⌉ slots",
                                   paper: "shares differ by at most one slot", ours: "holds in \(held) of \(balance.count) configurations"))
        let big = balance.filter { $0.size > 100 * $0.backends }
        if let worst = big.max(by: { $0.maxOverIdeal < $1.maxOverIdeal }) {
            figures.append(PaperFigure(figure: "§3.4 M > 100 × N", paper: "at most 1 % difference in hash space",
                                       ours: String(format: "worst max/ideal %.4f (M=%d, N=%d) over the %d such configurations", worst.maxOverIdeal, worst.size, worst.backends, big.count)))
        }
        for (m, ms) in [(65537, "1.8 ms"), (655373, "22.9 ms")] {
            let ours = balance.first { $0.size == m && $0.backends == 1000 }
            figures.append(PaperFigure(figure: "§5.3 table generation time, M = \(m)", paper: ms,
                                       ours: ours.map { String(format: "%.2f ms at N = 1000 (%@ build, this machine)", $0.buildMs.median, Self.buildKind) } ?? "not measured (needs N = 1000 and M = \(m))"))
        }
        for m in [65537, 655373] {
            let ours = balance.first { $0.size == m && $0.backends == 1000 }
            figures.append(PaperFigure(figure: "Fig. 11 Maglev max/min % of entries per backend, N = 1000, M = \(m)",
                                       paper: "not confirmed (plotted only; text: \"almost perfect load balancing\")",
                                       ours: ours.map { String(format: "max %.4f %%, min %.4f %% (ideal 0.1 %%): max/ideal %.4f, min/ideal %.4f",
                                                               Double($0.maxSlots) / Double(m) * 100, Double($0.minSlots) / Double(m) * 100, $0.maxOverIdeal, $0.minOverIdeal) } ?? "not measured"))
            let (karger, rendezvous) = m == 65537 ? ("29.7 %", "49.5 %") : ("10.3 %", "12.3 %")
            figures.append(PaperFigure(figure: "Fig. 11 overprovisioning needed, N = 1000, M = \(m)",
                                       paper: "Karger \(karger), Rendezvous \(rendezvous)",
                                       ours: ours.map { String(format: "Maglev (ours): %.2f %% (max/ideal − 1)", ($0.maxOverIdeal - 1) * 100) } ?? "not measured"))
        }
        let fig12 = disruption.filter { $0.backends == 1000 }
        if !fig12.isEmpty {
            let byK = Dictionary(grouping: fig12, by: \.removed)
            let ours = byK.keys.sorted().map { k in
                "k=\(k): " + byK[k]!.sorted { $0.size < $1.size }.map { "\(pct($0.rebuilt)) (M=\($0.size))" }.joined(separator: ", ")
            }.joined(separator: "; ")
            let resilient = byK.values.allSatisfy { rows in
                guard let small = rows.first(where: { $0.size == 65537 }), let large = rows.first(where: { $0.size == 655373 }) else { return true }
                return large.rebuilt <= small.rebuilt
            }
            figures.append(PaperFigure(figure: "Fig. 12 changed entries, k of 1000 backends removed, table rebuilt",
                                       paper: "not confirmed (plotted only; text: grows with k, larger table more resilient)",
                                       ours: ours + (resilient ? "; larger table more resilient: yes" : "; larger table more resilient: NO")))
        }
        figures.append(PaperFigure(figure: "§3.4 Table 1 (M = 7, 3 backends): removing B2",
                                   paper: "changes B2's entries plus one more", ours: "not measured here (MaglevTableTests checks it with the paper's offsets and skips)"))
        return figures
    }
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

/// A failure of a bench run (not of its arguments, so no usage text).
struct ServiceBenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
