import AgentClient
import AgentProtocol
import Foundation
import Libvirt
import LibvirtXML
import PlatformEngine
import PlatformModel
import Testing

/// platform-config/demo.yaml brought up on the real daemon with real guests, checked the way an
/// administrator would, and destroyed again. The file is used as shipped, under names, subnets and
/// MACs of its own: the administrator's own demo platform (`scripts/up.sh`) may be running beside
/// the tests, and nothing of it may be touched.
extension RealDaemon { @Suite struct PlatformE2ETests {
    static let demo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("platform-config/demo.yaml").path

    /// The shipped demo definition renamed: platform `e2edemo`, subnets 10.131.x, MAC prefix 02:56:51.
    static func privateDemo() throws -> (file: String, state: String) {
        var text = try String(contentsOfFile: demo, encoding: .utf8)
        for (from, to) in [("demo", "e2edemo"), ("10.30.", "10.131."), ("02:56:50:", "02:56:51:")] {
            text = text.replacingOccurrences(of: from, with: to)
        }
        text = text.replacingOccurrences(of: "\nplatform: e2edemo\n", with: "\nplatform: e2edemo\nmacPrefix: \"02:56:51\"\n")
        #expect(!text.replacingOccurrences(of: "e2edemo", with: "").contains("demo"), "every name of the shipped demo is renamed")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vp-e2edemo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("demo.yaml").path
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return (file, dir.appendingPathComponent("state.sqlite").path)
    }

    /// Every libvirt object on the host with what an administrator would notice changing: running
    /// or not, and a pool's volumes.
    struct Snapshot: Equatable, CustomStringConvertible {
        var domains: [String: Bool] = [:], networks: [String: Bool] = [:], pools: [String: [String]] = [:]
        init(_ conn: Connection, excluding ours: (String) -> Bool = { _ in false }) throws {
            for d in try conn.domains() where !ours(d.name) { domains[d.name] = try d.isActive() }
            for n in try conn.networks() where !ours(n.name) { networks[n.name] = try n.isActive() }
            for p in try conn.storagePools() where !ours(p.name) {
                pools[p.name] = try p.isActive() ? try p.volumes().map(\.name).sorted() : ["(inactive)"]
            }
        }
        var description: String { "domains \(domains), networks \(networks), pools \(pools)" }

        /// What differs from `earlier`, one line per object.
        func changes(since earlier: Snapshot) -> [String] {
            func diff<V: Equatable>(_ kind: String, _ now: [String: V], _ then: [String: V]) -> [String] {
                Set(now.keys).union(then.keys).sorted().compactMap { name in
                    now[name] == then[name] ? nil
                        : "\(kind) \(name): \(then[name].map { "\($0)" } ?? "absent") → \(now[name].map { "\($0)" } ?? "absent")"
                }
            }
            return diff("domain", domains, earlier.domains) + diff("network", networks, earlier.networks)
                + diff("pool", pools, earlier.pools)
        }
    }

    @Test func demoComesUpIsolatedWithItsDisksAndGoesAway() async throws {
        let (file, state) = try Self.privateDemo()
        let engine = try PlatformEngine(file: file, statePath: state)
        let conn = try #require(engine.connections["local"])
        let before = try Snapshot(conn)
        let ours = { (name: String) in name.hasPrefix("e2edemo-") }
        let others = try Snapshot(conn, excluding: ours)
        do {
            try await exercise(engine, conn)
            // Whatever else runs on this host (the administrator's demo, other platforms) is untouched.
            let changed = try Snapshot(conn, excluding: ours).changes(since: others)
            #expect(changed.isEmpty, "objects this test did not create changed: \(changed)")
        } catch {
            // Leave the host clean for the tests after this one, then report the failure.
            _ = try? await engine.destroy(cause: "e2e cleanup")
            throw error
        }
        // Destroy leaves libvirt as it was.
        try await engine.destroy(cause: "e2e")
        let left = try Snapshot(conn).changes(since: before)
        #expect(left.isEmpty, "destroy left libvirt different from before the test: \(left)")
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
        for (agent, person, volume) in [(web, "web", "e2edemo-data/web-data"), (db, "db", "e2edemo-data/db-data")] {
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
        try webDomain.detachDevice(xml: InterfaceSpec(network: "e2edemo-back", mac: webBack.mac).render(), [.live, .config])
        _ = try await web.waitForReport(until: .now + .seconds(30)) { !$0.macs.contains(webBack.mac) }
        let drift = try await engine.plan()
        #expect(drift.changes.map(\.description) == ["update processor \(webDomain.name) on local: interface \(webBack.mac) on e2edemo-back is missing"])
        try await engine.apply(cause: "e2e drift")
        _ = try await web.waitForReport(until: .now + .seconds(30)) { r in
            r.interfaces.contains { $0.mac == webBack.mac && $0.addresses.contains("\(webBack.ip)/24") }
        }
        #expect(try await engine.plan().isEmpty)
    }
}
}
