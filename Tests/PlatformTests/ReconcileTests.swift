import Foundation
import Libvirt
import LibvirtXML
import PlatformEngine
import PlatformModel
import Reconciler
import StateStore
import Testing
import TestSupport

/// Reconciling against libvirt's test driver. `test:///default` is shared by the whole process,
/// so every test gets its own platform name (and so its own object names).
@Suite struct ReconcileTests {
    let u = "r" + UUID().uuidString.prefix(6).lowercased()

    /// db's MAC, unique to this test: running guests of parallel tests must not share a MAC.
    var dbMAC: String {
        let h = Naming.stableHash(u)
        return "02:56:51:" + [16, 8, 0].map { String(format: "%02llx", (h >> UInt64($0)) & 0xff) }.joined(separator: ":")
    }

    /// This test's three /24s (10.40.1-3 in the fixture): plan refuses a subnet that another
    /// network on the host (another test's, here) already has.
    let subnet = TestSubnets.next()

    /// The fixture renamed for this test: platform, processors, pool, db's MAC, subnets.
    func unique(_ text: String = validYAML) -> String {
        (1...3).reduce(text) { text, n in text.replacingOccurrences(of: "10.40.\(n).", with: subnet(n)) }
            .replacingOccurrences(of: "platform: t\n", with: "platform: \(u)\n")
            .replacingOccurrences(of: "02:56:50:00:02:20", with: dbMAC)
            .replacingOccurrences(of: "t-p", with: "\(u)-p").replacingOccurrences(of: "t-data", with: "\(u)-data")
    }

    /// "10.a.b." of the fixture's 10.40.n. in this test.
    func subnet(_ n: Int) -> String { "10.\(subnet.a).\(subnet.b + n - 1)." }

    func engine(_ text: String? = nil) throws -> (PlatformEngine, String) {
        let text = text ?? unique()
        let dir = URL(fileURLWithPath: try ScratchDirectory.make("vp-rec"))
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("t.yaml").path
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return (try PlatformEngine(file: file, statePath: dir.appendingPathComponent("state.sqlite").path), file)
    }

    @Test func applyConvergesAndASecondApplyChangesNothing() async throws {
        let (engine, _) = try engine()
        let first = try await engine.apply(cause: "test")
        #expect(first.changes.filter { $0.verb == .create }.count == 6) // 2 networks, 1 pool, 3 processors
        let conn = engine.connections["local"]!
        #expect(try conn.domain(named: "\(u)-p1").status().state == .running)
        #expect(try conn.domain(named: "\(u)-p3").status().state == .running) // hot standby
        #expect(try conn.network(named: "\(u)-back").xml().contains(dbMAC))
        #expect(try conn.storagePool(named: "\(u)-data").volumes().map(\.name).sorted() == ["v1", "v2", "vp-owner.\(u)"])
        #expect(try await engine.plan().isEmpty)
        #expect(try await engine.apply(cause: "test").isEmpty)
        // Journal has every change, with its cause.
        #expect(try engine.store.journal().contains { $0.action == .create && $0.object == "processor \(u)-p1 on local" && $0.cause == "test" })
        // Written in batches: every change's line is there, and every volume created is recorded.
        let created = try engine.store.journal(last: 1000).filter { $0.action == .create && $0.cause == "test" }.map(\.object)
        #expect(created.sorted() == first.changes.filter { $0.verb == .create }.map { "\($0.object) on \($0.host)" }.sorted())
        #expect(try engine.store.createdVolumes().map(\.name) == ["v1", "v2"])
        try await engine.destroy(cause: "test")
    }

    @Test func driftIsReportedAndCorrected() async throws {
        let (engine, _) = try engine()
        try await engine.apply(cause: "test")
        let conn = engine.connections["local"]!
        try conn.domain(named: "\(u)-p2").destroy()                       // stopped by hand
        let back = try conn.network(named: "\(u)-back")
        try back.updateDHCPHost(.delete, hostXML: DHCPHost(mac: dbMAC, ip: "\(subnet(2))20").render(), live: true, config: true)
        let standby = try conn.domain(named: "\(u)-p3")
        try standby.destroy(); try standby.undefine()                  // removed by hand

        let plan = try await engine.plan()
        let text = plan.changes.map(\.description)
        #expect(text.contains { $0.hasPrefix("update processor \(u)-p2") && $0.contains("not running") })
        #expect(text.contains { $0.hasPrefix("update network \(u)-back") && $0.contains("\(dbMAC) → \(subnet(2))20 is missing") })
        #expect(text.contains { $0.hasPrefix("create processor \(u)-p3") })
        try await engine.apply(cause: "test")
        #expect(try await engine.plan().isEmpty)
        #expect(try conn.domain(named: "\(u)-p2").isActive())
        try await engine.destroy(cause: "test")
    }

    @Test func anApplyCutShortIsCompletedByTheNext() async throws {
        let (engine, _) = try engine()
        let plan = try await engine.plan()
        try engine.reconciler.apply(Plan(changes: Array(plan.changes.prefix(2))), ledger: engine.volumeLedger)
        let rest = try await engine.plan()
        #expect(rest.changes.count == plan.changes.count - 2)
        try await engine.apply(cause: "test")
        #expect(try await engine.plan().isEmpty)
        try await engine.destroy(cause: "test")
    }

    @Test func destroyRemovesOnlyWhatThePlatformCreated() async throws {
        let (engine, _) = try engine()
        let conn = engine.connections["local"]!
        // Named like one of the platform's processors, but not created by it.
        let foreign = try conn.defineDomain(xml: DomainSpec(name: "\(u)-p9", type: "test", memoryMiB: 64,
                                                           kernel: "/k", initrd: nil, cmdline: "").render())
        defer { try? foreign.undefine() }
        try await engine.apply(cause: "test")
        try await engine.destroy(cause: "test")
        #expect(try conn.domainIfPresent(named: "\(u)-p1") == nil)
        #expect(try conn.networkIfPresent(named: "\(u)-front") == nil)
        #expect(try conn.storagePoolIfPresent(named: "\(u)-data") == nil)
        #expect(try conn.domainIfPresent(named: foreign.name) != nil)
        #expect(try conn.networks().filter { $0.name.hasPrefix(u) }.isEmpty)
        #expect(try conn.domains().filter { $0.name.hasPrefix(u) }.map(\.name) == [foreign.name])
        #expect(try engine.store.bindings().isEmpty)
    }

    @Test func invalidDefinitionChangesNothing() async throws {
        let conn = try Connection(uri: "test:///default")
        #expect {
            _ = try self.engine(unique(yaml(replacing: "id: 200", with: "id: 100")))
        } throws: { error in
            (error as? ConfigErrors)?.issues.first?.field == "vlans[1].id"
        }
        #expect(try conn.domains().filter { $0.name.hasPrefix(u) }.isEmpty)
        #expect(try conn.networks().filter { $0.name.hasPrefix(u) }.isEmpty)
    }

    @Test func bindingsAndAllocationsAreRemembered() async throws {
        let (engine, file) = try engine()
        try await engine.apply(cause: "test")
        let macs = try engine.store.allocations()
        // A second controller process on the same store sees the same memory.
        let again = try PlatformEngine(file: file, store: engine.store)
        #expect(try again.store.allocations() == macs)
        #expect(try again.store.bindings() == ["web": "\(u)-p1", "db": "\(u)-p2"])
        try await engine.destroy(cause: "test")
    }
}

/// Three /24s per test, distinct within the test process.
enum TestSubnets {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var count = 0
    static func next() -> (a: Int, b: Int) {
        lock.lock(); defer { lock.unlock() }
        count += 1
        return (41 + count / 80, count % 80 * 3)
    }
}

extension ReconcileTests {
    @Test func aMACOnAForeignRunningDomainBlocksTheWholeApply() async throws {
        let (engine, _) = try engine()
        let conn = engine.connections["local"]!
        // Someone else's running guest already carries db's MAC.
        try await expectRefusedBeside(engine, DomainSpec(name: "\(u)-intruder", type: "test", memoryMiB: 64, kernel: "/k",
                                                         initrd: nil, cmdline: "",
                                                         interfaces: [InterfaceSpec(network: "default", mac: dbMAC)]),
                                      "MAC \(dbMAC) is carried by running domain \(u)-intruder on local")
    }

    /// Runs a domain of someone else's (`intruder`) and expects apply to refuse, saying `message`,
    /// with nothing of the platform created.
    func expectRefusedBeside(_ engine: PlatformEngine, _ intruder: DomainSpec, _ message: String) async throws {
        let conn = engine.connections["local"]!
        let other = try conn.defineDomain(xml: intruder.render())
        try other.start()
        defer { try? other.destroy(); try? other.undefine() }
        await #expect { try await engine.apply(cause: "test") } throws: { "\($0)".contains(message) }
        #expect(try conn.domains().filter { $0.name.hasPrefix(u) }.map(\.name) == [other.name])
        #expect(try conn.networks().filter { $0.name.hasPrefix(u) }.isEmpty)
        #expect(try conn.storagePoolIfPresent(named: "\(u)-data") == nil)
    }
}
