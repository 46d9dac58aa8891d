import PlatformModel
import Testing

@Suite struct AllocationTests {
    func definition(_ text: String = validYAML) throws -> PlatformDefinition {
        try PlatformLoader.parse(text, file: "t.yaml").definition
    }

    @Test func allocatesUnderThePrefixDeterministically() throws {
        let p = try definition()
        let a = try Allocator.allocate(p, remembered: [:])
        let b = try Allocator.allocate(p, remembered: [:])
        #expect(a == b)
        let web = try #require(a.nics["web/back"])
        #expect(web.mac.hasPrefix("02:56:50:"))
        #expect(web.ip == "10.40.2.10")
        #expect(a.nics["web/front"]?.ip == "10.40.1.10")
        #expect(a.nics["db/back"]?.mac == "02:56:50:00:02:20")
        #expect(Set(a.nics.values.map(\.mac)).count == 3)
        #expect(Set(a.nics.values.map(\.ip)).count == 3)
        #expect(a.new.count == 3)
    }

    @Test func rememberedAllocationsAreKept() throws {
        let p = try definition()
        let remembered = ["web/back": NICAllocation(key: "web/back", mac: "02:56:50:aa:bb:cc", ip: "10.40.2.77")]
        let a = try Allocator.allocate(p, remembered: remembered)
        #expect(a.nics["web/back"] == remembered["web/back"])
        #expect(!a.new.contains { $0.key == "web/back" })
    }

    @Test func collisionsProbeToTheNextFreeMAC() throws {
        // Pre-occupy the MAC the hash would give web/front: the allocator must step past it.
        let p = try definition()
        let fresh = try Allocator.allocate(p, remembered: [:])
        let taken = try #require(fresh.nics["web/front"]).mac
        let other = NICAllocation(key: "db/back", mac: taken, ip: "10.40.2.20")
        var q = p
        q.personalities[1].nics[0].mac = nil
        let a = try Allocator.allocate(q, remembered: ["db/back": other])
        #expect(a.nics["db/back"]?.mac == taken)
        #expect(a.nics["web/front"]?.mac != taken)
        #expect(Set(a.nics.values.map(\.mac)).count == a.nics.count)
    }

    @Test func manyNICsGetDistinctAddresses() throws {
        var p = try definition()
        p.vlans[0].subnet = "10.50.0.0/16"
        p.personalities = (0..<2000).map { PersonalityDef(name: "p\($0)", nics: [NICDef(vlan: "front")]) }
        let a = try Allocator.allocate(p, remembered: [:])
        #expect(Set(a.nics.values.map(\.mac)).count == 2000)
        #expect(Set(a.nics.values.map(\.ip)).count == 2000)
    }
}
