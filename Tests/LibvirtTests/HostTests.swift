import Libvirt
import LibvirtXML
import Testing

/// The host facts plan checks against, on libvirt's test driver.
@Suite struct HostTests {
    @Test func nodeInfoGivesCPUsAndMemory() throws {
        let info = try openTest().nodeInfo()
        #expect(info.cpus == 16)
        #expect(info.memoryKiB == 3_145_728)
    }

    @Test func hostInterfacesAreListedWithTheirDefinition() throws {
        let interfaces = try openTest().hostInterfaces()
        let eth1 = try #require(interfaces.first { $0.name == "eth1" })
        #expect(eth1.active)
        #expect(eth1.mac == "aa:bb:cc:dd:ee:ff")
        #expect(eth1.xml.contains("192.168.0.5"))
    }

    @Test func aTransientPoolShowsADirectoryAndLeavesNothing() throws {
        let conn = try openTest()
        let name = uniqueName("probe")
        let pool = try conn.createTransientStoragePool(xml: StoragePoolSpec(name: name, path: "/vp-test/\(name)").render())
        #expect(try pool.isActive())
        #expect(try pool.info().availableBytes == 100 << 30)
        #expect(try pool.volumes().isEmpty)
        try pool.destroy()
        #expect(try conn.storagePoolIfPresent(named: name) == nil)
    }
}
