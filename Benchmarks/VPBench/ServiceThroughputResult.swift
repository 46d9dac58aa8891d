// What `vp-bench service-throughput` reports: each path's runs summed up and the bars.
extension ServiceThroughputBench {
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
}

extension ServiceThroughputBench {
    /// Each path's runs summed up, its ratios to direct, and the bars (when service, direct and
    /// haproxy were measured).
    static func summarize(_ paths: [Path], runs: [Path: [WrkRun]], answeredBy: [Path: String],
                          lab: ServiceBenchLab) -> (paths: [PathSummary], bars: Bars?) {
        func median(_ xs: [Double]) -> Double { Timings(samples: xs).median }
        /// nil unless every run has the figure.
        func medianOfEvery(_ r: [WrkRun], _ figure: KeyPath<WrkRun, Double?>) -> Double? {
            r.contains { $0[keyPath: figure] == nil } ? nil : median(r.compactMap { $0[keyPath: figure] })
        }
        var summaries = paths.map { path -> PathSummary in
            let r = runs[path] ?? []
            return PathSummary(path: path, target: lab.url(path), source: lab.source(path), description: path.explanation,
                               answeredBy: answeredBy[path], runs: r,
                               medianRequestsPerSecond: median(r.map(\.requestsPerSecond)), medianP50Ms: median(r.map(\.p50Ms)),
                               worstP99Ms: r.map(\.p99Ms).max() ?? 0, non2xx: r.reduce(0) { $0 + $1.non2xx },
                               socketErrors: r.reduce(0) { $0 + $1.socketErrors }, ratioToDirect: nil, pairedRatioToDirect: nil,
                               medianCPUMicrosecondsPerRequest: medianOfEvery(r, \.cpuMicrosecondsPerRequest),
                               medianClientCPUMicrosecondsPerRequest: medianOfEvery(r, \.clientCPUMicrosecondsPerRequest),
                               medianServerCPUMicrosecondsPerRequest: medianOfEvery(r, \.serverCPUMicrosecondsPerRequest))
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
        return (summaries, bars)
    }
}
