import Foundation
import Libvirt
import LibvirtXML
import PlatformEngine
import Reconciler
import Testing

extension ReconcileTests {
    /// Every volume apply creates is in the state store; destroy deletes those and forgets them.
    @Test func createdVolumesAreRecordedAndForgottenWhenDeleted() async throws {
        let (engine, _) = try engine()
        try await engine.apply(cause: "test")
        #expect(try engine.store.createdVolumes().map { "\($0.host) \($0.pool)/\($0.name)" } == ["local \(u)-data/v1", "local \(u)-data/v2"])
        let pool = try engine.connections["local"]!.storagePool(named: "\(u)-data")
        #expect(try pool.volumes().map(\.name).sorted() == ["v1", "v2", PoolOwnership.marker(platform: u)].sorted(),
                "the pool's directory carries the platform's marker")
        try await engine.destroy(cause: "test")
        #expect(try engine.store.createdVolumes().isEmpty)
    }

    /// A pool made by a version that recorded no volumes (its libvirt object is the platform's,
    /// no marker, no records): the volumes the definition names are adopted, so an upgraded
    /// platform applies and destroys as before; any other file in it is still refused.
    @Test func aPoolOfAnEarlierVersionHasItsVolumesAdopted() async throws {
        let (engine, _) = try engine()
        try await engine.apply(cause: "test")
        let conn = engine.connections["local"]!
        let pool = try conn.storagePool(named: "\(u)-data")
        // What the earlier version left: the volumes, no marker, nothing recorded.
        try pool.volume(named: PoolOwnership.marker(platform: u)).delete()
        for v in ["v1", "v2"] { try engine.store.forgetVolume(host: "local", pool: "\(u)-data", name: v) }
        let stranger = try pool.createVolume(xml: VolumeSpec(name: "notes.txt", capacityBytes: 1 << 10).render())
        await #expect { try await engine.apply(cause: "test") } throws: {
            "\($0)".contains("holds 1 files the platform did not create (notes.txt)")
        }
        #expect(try engine.store.createdVolumes().isEmpty, "a refused apply records nothing")
        try stranger.delete()
        let plan = try await engine.apply(cause: "test")
        #expect(plan.changes.map(\.description).contains { $0.contains("volumes v1, v2 of an earlier version are recorded as the platform's") })
        #expect(try engine.store.createdVolumes().map { "\($0.pool)/\($0.name)" } == ["\(u)-data/v1", "\(u)-data/v2"])
        #expect(try pool.volumes().map(\.name).contains(PoolOwnership.marker(platform: u)))
        #expect(try await engine.plan().isEmpty)
        try await engine.destroy(cause: "test")
        #expect(try conn.storagePoolIfPresent(named: "\(u)-data") == nil, "its volumes were the platform's: the pool goes")
    }

    /// Someone else's file in the platform's pool: destroy says it leaves it, and deletes only
    /// the platform's volumes and its marker.
    @Test func destroyDeletesOnlyThePlatformsVolumesAndSaysWhatItLeaves() async throws {
        let (engine, _) = try engine()
        try await engine.apply(cause: "test")
        let conn = engine.connections["local"]!
        _ = try conn.storagePool(named: "\(u)-data").createVolume(xml: VolumeSpec(name: "someone-elses.img", capacityBytes: 1 << 20).render())
        let plan = try engine.reconciler.destroyPlan(ledger: engine.volumeLedger)
        let removal = try #require(plan.changes.first { $0.object == "storage pool \(u)-data" })
        #expect(removal.description.contains("its 2 volumes are deleted (v1, v2)"))
        #expect(removal.description.contains("directory /vp-test/\(u)-data and its 1 files the platform did not create are left (someone-elses.img)"))
        let recorder = FaultInjector(engine.reconciler.performer)
        try engine.reconciler.performing(through: recorder).apply(plan, ledger: engine.volumeLedger)
        let deleted = recorder.performed.compactMap { action -> String? in
            if case .deleteVolume(_, let name) = action { return name } else { return nil }
        }
        #expect(deleted.sorted() == ["v1", "v2", PoolOwnership.marker(platform: u)].sorted())
        #expect(try conn.storagePoolIfPresent(named: "\(u)-data") == nil)
    }

    /// The platform's pool already in libvirt with another directory: plan reports the drift,
    /// apply refuses and changes nothing.
    @Test func aPoolWithAnotherDirectoryIsReportedNotAdopted() async throws {
        let (first, _) = try engine()
        try await first.apply(cause: "test")
        let moved = unique().replacingOccurrences(of: "path: /vp-test/\(u)-data", with: "path: /vp-test/\(u)-elsewhere")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("vp-rec-\(UUID().uuidString).yaml").path
        try moved.write(toFile: file, atomically: true, encoding: .utf8)
        let engine = try PlatformEngine(file: file, store: first.store)
        let before = try LibvirtSnapshot(engine.connections["local"]!, prefix: u)
        let message = "storage pool \(u)-data on local exists in libvirt with directory /vp-test/\(u)-data, the definition says /vp-test/\(u)-elsewhere"
        await #expect { try await engine.plan() } throws: { "\($0)".contains(message) }
        await #expect { try await engine.apply(cause: "test") } throws: { "\($0)".contains(message) && "\($0)".contains("Nothing was changed") }
        #expect(try LibvirtSnapshot(engine.connections["local"]!, prefix: u) == before)
        try await first.destroy(cause: "test")
    }

    /// A pool of someone else's already has the directory, or the pool's name: refused.
    @Test func aDirectoryOrPoolNameOfSomeoneElsesIsRefused() async throws {
        let (engine, _) = try engine()
        let conn = engine.connections["local"]!
        let other = try conn.defineStoragePool(xml: StoragePoolSpec(name: "\(u)-theirs", path: "/vp-test/\(u)-data").render())
        defer { try? other.undefine() }
        await #expect { try await engine.apply(cause: "test") } throws: {
            "\($0)".contains("storage pool \(self.u)-data on local: directory /vp-test/\(self.u)-data is already the directory of libvirt pool '\(self.u)-theirs'")
        }
        try other.undefine()
        let sameName = try conn.defineStoragePool(xml: StoragePoolSpec(name: "\(u)-data", path: "/vp-test/\(u)-data").render())
        defer { try? sameName.undefine() }
        await #expect { try await engine.apply(cause: "test") } throws: {
            "\($0)".contains("storage pool \(self.u)-data on local exists in libvirt but was not created by this platform")
        }
        #expect(try conn.networks().filter { $0.name.hasPrefix(u) }.isEmpty)
        #expect(try conn.domains().filter { $0.name.hasPrefix(u) }.isEmpty)
    }

    /// One writer per volume: a running domain of someone else's has db's volume open.
    @Test func aVolumeOpenInAnotherRunningDomainIsNotGiven() async throws {
        let (engine, _) = try engine()
        try await expectRefusedBeside(engine, DomainSpec(name: "\(u)-reader", type: "test", memoryMiB: 64, kernel: "/k",
                                                         initrd: nil, cmdline: "",
                                                         disks: [DiskSpec(source: .volume(pool: "\(u)-data", volume: "v2"), target: "vdc")]),
                                      "volume \(u)-data/v2 is open in running domain \(u)-reader on local; refusing to give it to processor \(u)-p2 on local")
    }
}
