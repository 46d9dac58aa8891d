import Foundation
import PlatformModel
import ServiceControl
import StateStore
import Synchronization
import Testing

/// The checker's loop with a fake probe: each member's results go through rise/fall, and only a
/// change of state is reported, as the row `vpctl service show` reads.
struct HealthCheckRunnerTests {
    /// Answers from a script per address; once the script is used up, the last answer repeats.
    final class ScriptedProbe: HealthProbe, @unchecked Sendable {
        let scripts: Mutex<[String: [HealthProbeResult]]>
        let calls = Mutex<[String: Int]>([:])
        init(_ scripts: [String: [HealthProbeResult]]) { self.scripts = Mutex(scripts) }
        func probe(_ spec: HealthCheckSpec, address: String) -> HealthProbeResult {
            calls.withLock { $0[address, default: 0] += 1 }
            return scripts.withLock { s in
                guard var script = s[address], !script.isEmpty else { return .failed("no script") }
                let next = script.count > 1 ? script.removeFirst() : script[0]
                s[address] = script
                return next
            }
        }
    }

    let spec = HealthCheckSpec(ServiceHealthCheckDef(type: .http, path: "/healthz", intervalMs: 100, timeoutMs: 50, rise: 2, fall: 2),
                               servicePort: 80)

    @Test func theSpecTakesTheDefinitionsDefaults() {
        let tcp = HealthCheckSpec(ServiceHealthCheckDef(type: .tcp), servicePort: 8080)
        #expect(tcp.kind == .tcp && tcp.port == 8080 && tcp.interval == .milliseconds(1000) && tcp.timeout == .milliseconds(500))
        #expect(tcp.rise == 2 && tcp.fall == 3)
        #expect(spec.kind == .http(path: "/healthz", expectStatus: 200))
        #expect(spec.describe("10.1.1.1") == "GET http://10.1.1.1:80/healthz")
        #expect(spec.summary == "GET /healthz on port 80, expecting 200, every 100 ms (timeout 50 ms), rise 2, fall 2")
        #expect(tcp.summary == "TCP connect to port 8080, every 1000 ms (timeout 500 ms), rise 2, fall 3")
    }

    @Test func aMemberCheckReportsOnlyChangesOfState() {
        var check = MemberCheck(service: "web", member: "a", address: "10.1.1.1", spec: spec, saved: nil)
        let at = Date()
        let rows = [HealthProbeResult.passed, .failed("HTTP 503"), .failed("HTTP 503"), .passed, .passed].map { check.record($0, at: at) }
        #expect(rows[0] == nil && rows[1] == nil, "fall 2: one failure is not enough")
        #expect(rows[2] == BackendHealthRecord(probe: .check, subject: "web/a", up: false,
                                               reason: "GET http://10.1.1.1:80/healthz: HTTP 503 (2 in a row)", since: at))
        #expect(rows[3] == nil && rows[4]?.up == true, "rise 2")
    }

    @Test func aSavedDownStateNeedsRiseSuccesses() {
        let saved = BackendHealthRecord(probe: .check, subject: "web/a", up: false, reason: "HTTP 503")
        var check = MemberCheck(service: "web", member: "a", address: "10.1.1.1", spec: spec, saved: saved)
        let rows = [HealthProbeResult.passed, .passed].map { check.record($0, at: Date()) }
        #expect(rows[0] == nil && rows[1]?.up == true)
    }

    @Test func theRunnerChecksEveryMemberOnItsOwnAndReportsItsChanges() async throws {
        let probe = ScriptedProbe(["10.1.1.1": [.passed], "10.1.1.2": [.passed, .failed("connection refused")]])
        let reported = Mutex<[BackendHealthRecord]>([])
        let runner = HealthCheckRunner(probe: probe) { row in reported.withLock { $0.append(row) } }
        runner.start([
            MemberCheck(service: "web", member: "a", address: "10.1.1.1", spec: spec, saved: nil),
            MemberCheck(service: "web", member: "b", address: "10.1.1.2", spec: spec, saved: nil),
        ])
        defer { runner.stop() }
        let deadline = ContinuousClock.now + .seconds(5)
        while reported.withLock({ $0.isEmpty }) {
            try #require(ContinuousClock.now < deadline, "b reported down within 5 s")
            try await Task.sleep(for: .milliseconds(20))
        }
        let rows = reported.withLock { $0 }
        #expect(rows.map(\.subject) == ["web/b"] && rows.allSatisfy { !$0.up })
        #expect(rows.first?.reason.contains("connection refused") == true)
        runner.stop()
        let after = probe.calls.withLock { $0 }
        try await Task.sleep(for: .milliseconds(300))
        #expect(probe.calls.withLock { $0 } .values.reduce(0, +) <= after.values.reduce(0, +) + 2, "stopped: at most the checks in flight")
    }
}
