import AgentClient
import AgentProtocol
import Foundation
import Libvirt
import LibvirtXML
import PlatformEngine
import PlatformModel
import Testing

/// platform-config/demo.yaml brought up on the real daemon with real guests, checked the way an
/// administrator would, and destroyed again.
extension RealDaemon { @Suite struct PlatformE2ETests {
    static let demo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("platform-config/demo.yaml").path

    struct Snapshot: Equatable {
        var domains: Set<String>, networks: Set<String>, pools: Set<String>
        init(_ conn: Connection) throws {
            domains = Set(try conn.domains().map(\.name))
            networks = Set(try conn.networks().map(\.name))
            pools = Set(try conn.storagePools().map(\.name))
        }
    }

    @Test func demoComesUpIsolatedWithItsDisksAndGoesAway() async throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("vp-e2e-\(UUID().uuidString).sqlite").path
        let engine = try PlatformEngine(file: Self.demo, statePath: state)
        let conn = try #require(engine.connections["local"])
        let before = try Snapshot(conn)
        do {
            try await exercise(engine, conn)
        } catch {
            // Leave the host clean for the tests after this one, then report the failure.
            _ = try? await engine.destroy(cause: "e2e cleanup")
            throw error
        }
        // Destroy leaves libvirt as it was.
        try await engine.destroy(cause: "e2e")
        #expect(try Snapshot(conn) == before)
    }

    func exercise(_ engine: PlatformEngine, _ conn: Connection) async throws {
        try await engine.apply(cause: "e2e")
        let status = try await engine.status()
        #expect(status.processors.map(\.state) == ["running", "running", "running", "shutoff"])
        #expect(status.processors.map(\.role) == ["active", "active", "hot-standby", "cold-standby"])
        #expect(try await engine.plan().isEmpty, "a second apply has nothing to do")

        // Each personality's processor boots, its agent answers on its VLAN address with its MACs.
        func membership(_ person: String, _ vlan: String) throws -> PlatformStatus.Membership {
            try #require(status.memberships.first { $0.personality == person && $0.vlan == vlan })
        }
        let webFront = try membership("web", "front"), webBack = try membership("web", "back"), dbBack = try membership("db", "back")
        let web = AgentHTTPClient(host: webFront.ip), db = AgentHTTPClient(host: dbBack.ip)
        let webReport = try await web.waitForReport(until: .now + .seconds(120)) { r in
            r.interfaces.contains { $0.addresses.contains("\(webBack.ip)/24") }
        }
        #expect(webReport.hostname == webFront.processor)
        #expect(Set(webReport.macs) == [webFront.mac, webBack.mac])
        let dbReport = try await db.waitForReport(until: .now + .seconds(120))
        #expect(dbReport.macs == [dbBack.mac])
        #expect(dbReport.hostname == dbBack.processor)

        // VLAN isolation: a member of "back" reaches another member of "back"; db, which is not
        // in "front", cannot reach web's "front" address.
        #expect(try await db.probe(webBack.ip), "db reaches web on VLAN back")
        #expect(try await web.probe(dbBack.ip), "web reaches db on VLAN back")
        #expect(try await !db.probe(webFront.ip), "db is not in VLAN front and must not reach it")

        // Storage mapping: each personality's volume is its vdb and carries its marker.
        for (agent, person, volume) in [(web, "web", "demo-data/web-data"), (db, "db", "demo-data/db-data")] {
            let disk = try await agent.writeMarker(disk: "vdb", text: "personality \(person)")
            #expect(disk.marker == "personality \(person)")
            #expect(try await agent.report().disk("vdb")?.marker == "personality \(person)")
            let processor = try #require(status.processors.first { $0.personality == person }).name
            let xml = try conn.domain(named: processor).xml()
            let (pool, vol) = (volume.split(separator: "/")[0], volume.split(separator: "/")[1])
            #expect(xml.contains("<source pool='\(pool)' volume='\(vol)'"), "\(processor) maps \(volume)")
        }

        // Drift: an interface removed by hand is reported by plan and put back by apply.
        let webDomain = try conn.domain(named: try #require(webFront.processor))
        try webDomain.detachDevice(xml: InterfaceSpec(network: "demo-back", mac: webBack.mac).render(), [.live, .config])
        _ = try await web.waitForReport(until: .now + .seconds(30)) { !$0.macs.contains(webBack.mac) }
        let drift = try await engine.plan()
        #expect(drift.changes.map(\.description) == ["update processor \(webDomain.name) on local: interface \(webBack.mac) on demo-back is missing"])
        try await engine.apply(cause: "e2e drift")
        _ = try await web.waitForReport(until: .now + .seconds(30)) { r in
            r.interfaces.contains { $0.mac == webBack.mac && $0.addresses.contains("\(webBack.ip)/24") }
        }
        #expect(try await engine.plan().isEmpty)
    }
}
}
