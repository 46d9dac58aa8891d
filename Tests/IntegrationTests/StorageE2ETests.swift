import Failover
import Foundation
import Libvirt
import PlatformEngine
import PlatformHarness
import Reconciler
import Testing

/// Storage and host checks on the real daemon: what plan refuses before anything is created,
/// what destroy leaves, and a qcow2 volume through a failover. Platforms "rc…", subnets 10.101–104.
extension RealDaemon { @Suite struct StorageE2ETests {
    /// A platform of cold standbys only (nothing boots), with one pool at `path`.
    func platform(_ name: String, subnet: Int, pool path: String, vlanExtra: String = "") throws -> PlatformEngine {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vp-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("\(name).yaml").path
        try DefinitionYAML(platform: name, processors: ["\(name)-p1"], domainType: .qemu, memoryMiB: 128).yaml("""
        vlans:
          - { name: front, id: 100, subnet: 10.\(subnet).1.0/24\(vlanExtra) }
        storage:
          pools:
            - name: \(name)-data
              host: local
              path: \(path)
              volumes: [{ name: web-data, capacity: 4MiB }, { name: log, capacity: 4MiB, format: qcow2 }]
        personalities: []
        standby: { mode: cold }
        """).write(toFile: file, atomically: true, encoding: .utf8)
        return try PlatformEngine(file: file, statePath: dir.appendingPathComponent("state.sqlite").path)
    }

    func ownedNames(_ conn: Connection, _ name: String) throws -> [String] {
        try (conn.networks().map(\.name) + conn.storagePools().map(\.name) + conn.domains().map(\.name)).filter { $0.hasPrefix(name) }
    }

    func run(_ arguments: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/sbin/ip")
        p.arguments = arguments
        try p.run()
        p.waitUntilExit()
        try #require(p.terminationStatus == 0, "ip \(arguments.joined(separator: " "))")
    }

    @Test func planRefusesABridgeThatIsAHostInterfaceWithNothingCreated() async throws {
        let engine = try platform("rcb", subnet: 101, pool: "/var/lib/virtualplatform/rcb/pool", vlanExtra: ", bridge: lo")
        let conn = try #require(engine.connections["local"])
        let message = "network rcb-front on local: bridge lo is already an interface of the host"
        await #expect { try await engine.plan() } throws: { "\($0)".contains(message) }
        await #expect { try await engine.apply(cause: "e2e") } throws: { "\($0)".contains(message) }
        #expect(try ownedNames(conn, "rcb").isEmpty, "nothing was created")
    }

    @Test func planRefusesASubnetAlreadyOnTheHostWithNothingCreated() async throws {
        // The host already has 10.102.1.1/24, on an interface of this test's.
        try run(["link", "add", "rcveth0", "type", "veth", "peer", "name", "rcveth1"])
        defer { try? run(["link", "del", "rcveth0"]) }
        try run(["addr", "add", "10.102.1.1/24", "dev", "rcveth0"])
        let engine = try platform("rcs", subnet: 102, pool: "/var/lib/virtualplatform/rcs/pool")
        let conn = try #require(engine.connections["local"])
        let message = "network rcs-front on local: subnet 10.102.1.1/24 overlaps 10.102.1.1/24 on host interface rcveth0"
        await #expect { try await engine.plan() } throws: { "\($0)".contains(message) }
        await #expect { try await engine.apply(cause: "e2e") } throws: { "\($0)".contains(message) }
        #expect(try ownedNames(conn, "rcs").isEmpty, "nothing was created")
    }

    /// A directory holding three files of someone else's is refused (naming them), and stays as it was.
    @Test func aDirectoryWithSomeoneElsesFilesIsRefused() async throws {
        // Inside the platform's own state directory: the one place validation lets a pool be.
        let dir = "/var/lib/virtualplatform/rcf/foreign-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir); rmdir("/var/lib/virtualplatform/rcf") }
        for file in ["a.txt", "b.img", "c.db"] { try "theirs".write(toFile: "\(dir)/\(file)", atomically: true, encoding: .utf8) }
        let engine = try platform("rcf", subnet: 103, pool: dir)
        let conn = try #require(engine.connections["local"])
        let message = "storage pool rcf-data: directory \(dir) holds 3 files the platform did not create (a.txt, b.img, c.db)"
        await #expect { try await engine.plan() } throws: { "\($0)".contains(message) }
        await #expect { try await engine.apply(cause: "e2e") } throws: { "\($0)".contains(message) }
        #expect(try ownedNames(conn, "rcf").isEmpty, "nothing was created")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["a.txt", "b.img", "c.db"])
    }

    /// A file dropped into the platform's pool directory survives destroy, with the directory;
    /// the platform's volumes and marker go. The destroy plan says what it leaves.
    @Test func destroyLeavesSomeoneElsesFileAndTheDirectory() async throws {
        let dir = "/var/lib/virtualplatform/rcd/pool-\(UUID().uuidString.prefix(6))"
        defer { try? FileManager.default.removeItem(atPath: (dir as NSString).deletingLastPathComponent) }
        let engine = try platform("rcd", subnet: 104, pool: dir)
        let conn = try #require(engine.connections["local"])
        do {
            try await engine.apply(cause: "e2e")
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["log", "vp-owner.rcd", "web-data"])
            let header = try #require(FileManager.default.contents(atPath: "\(dir)/log")).prefix(4)
            #expect(Array(header) == [0x51, 0x46, 0x49, 0xfb], "a qcow2 volume is a qcow2 file")
            try "theirs".write(toFile: "\(dir)/notes.txt", atomically: true, encoding: .utf8)
            try conn.storagePool(named: "rcd-data").refresh()
            let plan = try engine.reconciler.destroyPlan(ledger: engine.volumeLedger)
            let removal = try #require(plan.changes.first { $0.object == "storage pool rcd-data" }).description
            #expect(removal.contains("its 2 volumes are deleted (log, web-data)"), "\(removal)")
            #expect(removal.contains("directory \(dir) and its 1 files the platform did not create are left (notes.txt)"), "\(removal)")
            try await engine.destroy(cause: "e2e")
        } catch {
            _ = try? await engine.destroy(cause: "e2e cleanup")
            throw error
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["notes.txt"])
        #expect(try String(contentsOfFile: "\(dir)/notes.txt", encoding: .utf8) == "theirs")
        #expect(try ownedNames(conn, "rcd").isEmpty)
    }

    /// The console directory apply made for the processor's log goes with destroy, and so does
    /// the platform's directory, which apply made too and which is then empty.
    @Test func destroyRemovesTheConsoleDirectoryAndThePlatformsDirectoryItMade() async throws {
        let platformDirectory = "/var/lib/virtualplatform/rcc"
        try #require(!FileManager.default.fileExists(atPath: platformDirectory), "left by an earlier run: \(platformDirectory)")
        let engine = try platform("rcc", subnet: 104, pool: "\(platformDirectory)/pool")
        do {
            try await engine.apply(cause: "e2e")
            #expect(FileManager.default.fileExists(atPath: "\(platformDirectory)/console"), "defining rcc-p1 made its console directory")
            try await engine.destroy(cause: "e2e")
        } catch {
            _ = try? await engine.destroy(cause: "e2e cleanup")
            throw error
        }
        let left = (try? FileManager.default.subpathsOfDirectory(atPath: platformDirectory)) ?? []
        #expect(!FileManager.default.fileExists(atPath: platformDirectory), "destroy left \(platformDirectory): \(left)")
        #expect(try engine.store.journal().contains { $0.object == "console directory \(platformDirectory)/console" && $0.action == .delete })
    }

    /// A qcow2 volume is attached as qcow2: the agent writes its marker through it, and the
    /// marker is there after a failover to the hot standby.
    @Test func aQcow2VolumeKeepsItsMarkerThroughAFailover() async throws {
        try await FailoverPlatform.with(name: "rcq", subnet: 101, volumeFormat: "qcow2") { t in
            try await t.bringUp()
            let webOn = try #require(try t.processor(of: "web"))
            let xml = try t.conn.domain(named: webOn).xml()
            #expect(xml.contains("type=\"qcow2\"") || xml.contains("type='qcow2'"), "web's disk is read as qcow2")
            t.startService()
            try await t.waitUntilWatching([webOn])
            kill(try t.qemuPid(webOn), SIGKILL)
            let move = try await t.waitForMove(of: "web")
            let target = try #require(move.target)
            try await t.expectServed("web", on: target, peer: "db")
            let live = try DomainFacts(xml: try t.conn.domain(named: target).xml())
            #expect(live.disks.first { $0.target == "vdb" }?.format == "qcow2", "the standby reads it as qcow2 too")
        }
    }
}
}
