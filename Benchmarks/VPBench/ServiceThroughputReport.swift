import CommandOutput
import Foundation

// `vp-bench service-throughput`'s tables.
extension ServiceThroughputBench {
    func report(_ r: Result) {
        print("service throughput: wrk -t1 -c\(connections) -d\(seconds)s --latency\(closeConnections ? " -H 'Connection: close' (new connection per request)" : " (keep-alive)"), \(rounds) round(s), \(backends) nginx backend(s)")
        print("note: \(note)")
        if clientTwReuse { print("note: net.ipv4.tcp_tw_reuse=1 in the client namespace") }
        if r.ipForwardEnabledForRun { print("note: net.ipv4.ip_forward was 0; set to 1 for the run and restored") }
        var table = Table("PATH", "TARGET", "FROM", "ANSWERED BY", "REQ/S (median)", "P50 ms (median)", "P99 ms (worst)", "NON-2XX", "SOCKET ERR",
                          "× DIRECT", "× DIRECT (paired)", "CPU µs/req client+server")
        for s in r.paths {
            let cpu = s.medianCPUMicrosecondsPerRequest.map { c in
                String(format: "%.1f (%.1f+%.1f)", c, s.medianClientCPUMicrosecondsPerRequest ?? 0, s.medianServerCPUMicrosecondsPerRequest ?? 0)
            } ?? "-"
            table.add(s.path.rawValue, s.target, s.source, s.answeredBy ?? "?", Self.f0(s.medianRequestsPerSecond), Self.f2(s.medianP50Ms),
                      Self.f2(s.worstP99Ms), String(s.non2xx), String(s.socketErrors), s.ratioToDirect.map { String(format: "%.3f", $0) } ?? "-",
                      s.pairedRatioToDirect.map { String(format: "%.3f", $0) } ?? "-", cpu)
        }
        print(table.render())
        print("")
        if let bars = r.bars {
            var barTable = Table("BAR", "MEASURED", "MET")
            barTable.add("service ≥ 0.95 × direct", String(format: "%.3f × direct", bars.serviceOverDirect), bars.serviceOverDirectMet ? "yes" : "NO")
            barTable.add("service ahead of HAProxy", "\(Self.f0(bars.serviceRequestsPerSecond)) vs \(Self.f0(bars.haproxyRequestsPerSecond)) req/s (HAProxy \(String(format: "%.3f", bars.haproxyOverDirect)) × direct)",
                         bars.serviceAheadOfHAProxy ? "yes" : "NO")
            print(barTable.render())
        } else {
            print("bars: not evaluated (they need the service, direct and haproxy paths)")
        }
        print("")
        for s in r.paths { print("\(s.path.rawValue): \(s.description)") }
        print("isolation check (service table loaded, straight to a backend): \(r.isolationRefusesDirect == true ? "refused" : r.isolationRefusesDirect == false ? "answered — isolation NOT effective" : "not checked")")
        print("conntrack: \(r.conntrack.entriesAtEnd.map(String.init) ?? "?") entries at the end (max \(r.conntrack.max.map(String.init) ?? "?"), default TCP TIME_WAIT \(r.conntrack.timeWaitSeconds.map(String.init) ?? "?") s; the service's flows get 2 s)")
        print("load average (1/5/15 min) before: \(r.loadAverageBefore ?? "?"), after: \(r.loadAverageAfter ?? "?") (\(ProcessInfo.processInfo.activeProcessorCount) CPUs; other work on the machine skews the numbers)")
        print("× DIRECT (paired): median over rounds of req/s ÷ direct's req/s in the same round. CPU µs/req: user+system time of wrk (client) and of nginx + HAProxy (server) per request, median over rounds; it includes the kernel's forwarding/NAT/nftables work done in their context and is less sensitive to other load than req/s.")
        print("per-round runs (req/s): " + r.paths.map { "\($0.path.rawValue) " + $0.runs.map { Self.f0($0.requestsPerSecond) }.joined(separator: "/") }.joined(separator: "; "))
    }

    static func f0(_ v: Double) -> String { String(format: "%.0f", v) }
    static func f2(_ v: Double) -> String { String(format: "%.2f", v) }
}
