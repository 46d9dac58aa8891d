/// The rules of `services[].healthCheck` (see `ServiceHealthCheckDef`), apart from the rest of
/// the validator: each problem as (field below the check, message).
enum HealthCheckRules {
    static func issues(_ check: ServiceHealthCheckDef, of service: ServiceIPDef) -> [(field: String, message: String)] {
        var issues: [(String, String)] = []
        func within(_ field: String, _ value: Int?, _ range: ClosedRange<Int>, _ note: String = "") {
            if let value, !range.contains(value) {
                issues.append((field, "\(value) is outside \(range.lowerBound)–\(range.upperBound)\(note)"))
            }
        }
        let http = check.type == .http
        if check.type == .tcp {
            if check.path != nil { issues.append(("path", "only an http check has a path")) }
            if check.expectStatus != nil { issues.append(("expectStatus", "only an http check has an expected status")) }
        }
        // The path goes into the request line as written: no room for a second header or request.
        if http, let path = check.path,
           !(path.hasPrefix("/") && path.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F }) {
            issues.append(("path", "'\(path)' must start with '/' and hold no spaces or control characters"))
        }
        if http, let status = check.expectStatus, !(100...599).contains(status) {
            issues.append(("expectStatus", "\(status) is not an HTTP status (100–599)"))
        }
        within("port", check.port, 1...65535)
        if check.port == nil, service.transport == .udp {
            issues.append(("port", "the service is UDP; a tcp or http check needs the TCP port to connect to"))
        }
        within("intervalMs", check.intervalMs, 100...3_600_000)
        let interval = max(100, check.intervalMs ?? ServiceHealthCheckDef.defaultIntervalMs)
        within("timeoutMs", check.timeoutMs, 10...max(10, interval), " (at most intervalMs, \(interval))")
        within("rise", check.rise, 1...100)
        within("fall", check.fall, 1...100)
        return issues.map { (field: $0.0, message: $0.1) }
    }
}
