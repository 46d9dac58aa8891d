import Testing
import Libvirt
import LibvirtXML

@Suite struct StorageTests {
    @Test func poolAndVolumeLifecycle() throws {
        let conn = try openTest()
        let name = uniqueName("pool")
        let pool = try conn.defineStoragePool(xml: StoragePoolSpec(name: name, path: "/vp-test/\(name)").render())
        try pool.build()
        try pool.start()
        #expect(try pool.isActive())
        #expect(try conn.storagePools().contains { $0.name == name })

        let vol = try pool.createVolume(xml: VolumeSpec(name: "data1", capacityBytes: 64 << 20).render())
        #expect(vol.name == "data1")
        #expect(try vol.capacityBytes() == 64 << 20)
        #expect(try vol.path().hasSuffix("data1"))
        try pool.refresh()
        #expect(try pool.volumes().map(\.name).contains("data1"))
        #expect(try pool.volume(named: "data1").name == "data1")

        try vol.delete()
        #expect(try pool.volumeIfPresent(named: "data1") == nil)
        try pool.destroy()
        try pool.undefine()
        #expect(try conn.storagePoolIfPresent(named: name) == nil)
    }

    @Test func unknownVolumeIsNotFound() throws {
        let conn = try openTest()
        let pool = try conn.storagePool(named: "default-pool")
        #expect {
            _ = try pool.volume(named: "nope")
        } throws: { error in
            let e = error as! LibvirtError
            return e.isNotFound && e.operation == "looking up volume 'nope' in storage pool 'default-pool'"
        }
    }
}
