import PlatformHarness
import PlatformModel
import Testing

/// The definitions the benches and end-to-end tests build are what the product's loader and
/// validator accept, with the shared part as asked.
@Suite struct DefinitionYAMLTests {
    func load(_ yaml: String) throws -> PlatformDefinition {
        let loaded = try PlatformLoader.parse(yaml, file: "built.yaml")
        let issues = Validator.validate(loaded)
        #expect(issues.isEmpty, "\(issues)")
        return loaded.definition
    }

    @Test func aRealGuestPlatformWithTwoVLANsAndAPool() throws {
        let d = DefinitionYAML(platform: "dy", processors: ["dy-1", "dy-2"], image: "/images/p")
        let p = try load(d.yaml("""
        \(DefinitionYAML.frontAndBack(net: 240))
        \(d.storage(volumes: "[{ name: web-data, capacity: 16MiB, format: qcow2 }]"))
        personalities:
          - { name: web, nics: [{ vlan: front }, { vlan: back }], disks: [{ target: vdb, volume: \(d.poolName)/web-data }] }
        standby: { mode: cold }
        """))
        #expect(p.platform == "dy")
        #expect(p.hosts.map(\.name) == ["local"] && p.hosts[0].uri == "qemu:///system" && p.hosts[0].domainType == .auto)
        #expect(p.processors.vcpus == 1 && p.processors.memoryMiB == 160 && p.processors.image == "/images/p")
        #expect(p.processors.members.map(\.name) == ["dy-1", "dy-2"] && p.processors.members.allSatisfy { $0.host == "local" })
        #expect(p.vlans.map(\.name) == ["front", "back"] && p.vlans.map(\.id) == [100, 200])
        #expect(p.vlans.map(\.subnet) == ["10.240.1.0/24", "10.240.2.0/24"])
        let pool = try #require(p.storage?.pools.first)
        #expect(pool.name == "dy-data" && pool.path == "/var/lib/virtualplatform/dy/pool")
        #expect(pool.volumes.map(\.format) == [.qcow2])
        #expect(p.standbyMode == .cold)
    }

    @Test func aTestDriverPlatformHasNoDomainTypeAndNoImage() throws {
        let d = DefinitionYAML(platform: "dz", processors: ["dz-1"], uri: "test:///default", domainType: nil, memoryMiB: 128)
        let text = d.yaml("vlans: [{ name: front, id: 100, subnet: 10.241.1.0/24 }]\npersonalities: []")
        #expect(!text.contains("domainType") && !text.contains("image"))
        let p = try load(text)
        #expect(p.hosts[0].uri == "test:///default" && p.hosts[0].domainType == nil)
        #expect(p.processors.memoryMiB == 128 && p.processors.image == nil)
    }
}
