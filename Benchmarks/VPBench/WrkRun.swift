import Foundation

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
        guard let rps, let p50, let p99 else { throw BenchError("could not read wrk's output:\n\(text)") }
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
