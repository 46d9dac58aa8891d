@testable import Failover
import Foundation
import GRDB
import Libvirt
import LibvirtXML
import Logging
import StateStore
import Synchronization
import Testing
import TestSupport

/// `vpctl serve` on libvirt's test driver, with its state store failing underneath it: it keeps
/// running, alerts without flooding, and declares the failure it could not record once it can.
struct ServeResilienceTests {
    @Test func serveKeepsRunningThroughStoreErrorsAndRetriesTheDetectionItCouldNotRecord() async throws {
        // Heartbeats (to web and db, which never answer, so are never judged) stay on loopback.
        let t = try EnginePlatform(subnet: "127.0.0", store: .sqlite)
        let conn = try Connection(uri: "test:///default")
        // web's processor is defined and off: the service's start-up scan detects it.
        let p1 = try conn.defineDomain(xml: DomainSpec(name: t.p(1), type: "test", memoryMiB: 64, kernel: "/boot/vmlinuz",
                                                       initrd: "/boot/initrd", cmdline: "").render())
        defer { try? p1.undefine() }
        let raw = try DatabaseQueue(path: try #require(t.store as? SQLitePlatformStore).path)
        try await raw.write { try $0.execute(sql: "ALTER TABLE failover RENAME TO failover_away") }

        var logger = Logger(label: "test.serve")
        logger.logLevel = .critical
        let service = FailoverService(engine: try t.engine([:]), logger: logger)
        let ended = Mutex<String?>(nil)
        let serving = Task {
            do { try await service.run(); ended.withLock { $0 = "returned" } } catch { ended.withLock { $0 = "threw \(error)" } }
        }
        defer { serving.cancel() }

        func alerts(_ text: String) throws -> Int {
            try t.store.events(limit: 1000).filter { $0.kind == .alert && $0.detail.contains(text) }.count
        }
        try await waitUntil("an alert that the store cannot be read, and one that the detection was not recorded", within: .seconds(15)) {
            try alerts("state store cannot be read") > 0 && alerts("detection of \(t.p(1)) not recorded") > 0
        }
        #expect(ended.withLock { $0 } == nil, "serve still runs")

        try await raw.write { try $0.execute(sql: "ALTER TABLE failover_away RENAME TO failover") }
        try await waitUntil("web's failure declared after the store came back", within: .seconds(20)) {
            try t.store.failovers().contains { $0.personality == "web" && $0.source == t.p(1) }
        }
        #expect(ended.withLock { $0 } == nil, "serve still runs")
        #expect(try alerts("state store cannot be read") <= 3, "alerted with backoff, not at every retry")
        #expect(try alerts("detection of \(t.p(1)) not recorded") <= 3)

        serving.cancel()
        try await waitUntil("serve stops when cancelled", within: .seconds(10)) { ended.withLock { $0 } != nil }
    }
}

