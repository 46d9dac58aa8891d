@testable import Failover
import Foundation
import HostsTesting
import Logging
import StateStore
import Testing
import TestSupport

/// `vpctl serve` and a step that fails: the failure is alerted, the move stays where it was and
/// is retried until it is done.
struct ServeStepFailureTests {
    @Test func aFailedStepIsAlertedAndRetriedUntilTheMoveIsDone() async throws {
        let t = try FakeHostPlatform()
        t.a.crash("p1")
        t.a.inject(.error, into: .attach, domain: "p3")
        var quiet = Logger(label: "test.serve")
        quiet.logLevel = .critical
        let service = FailoverService(engine: try t.engine(), logger: quiet)
        let serving = Task { try await service.run() }
        defer { serving.cancel() }
        let id = try t.declare()
        try await waitUntil("the move done", within: .seconds(60)) { try t.step(id) == .done }
        let alerts = try t.store.events(limit: 100).filter { $0.kind == .alert }
        #expect(alerts.contains { $0.detail.contains("step after fenced failed") && $0.detail.contains("injected failure of attach p3") },
                "\(alerts.map(\.detail))")
        for device in t.plugged("web") { #expect(t.attaches(of: device, to: "p3") == 1, "\(device) attached once") }
        #expect(t.fleet.violations.isEmpty)
    }
}
