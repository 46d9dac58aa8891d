import Testing
import Libvirt
import LibvirtXML

@Suite struct NetworkTests {
    @Test func defineStartUpdateDestroyUndefine() throws {
        let conn = try openTest()
        let name = uniqueName("vlan")
        let spec = NetworkSpec(name: name, bridge: "vpt\(name.suffix(6))", address: "10.77.0.1", prefix: 24,
                               dhcpRange: ("10.77.0.100", "10.77.0.200"),
                               hosts: [DHCPHost(mac: "52:54:00:00:00:01", ip: "10.77.0.11")])
        let net = try conn.defineNetwork(xml: spec.render())
        #expect(try !net.isActive())
        try net.start()
        #expect(try net.isActive())
        #expect(try net.bridgeName() == spec.bridge)
        #expect(try conn.networks().contains { $0.name == name })

        let host = DHCPHost(mac: "52:54:00:00:00:02", ip: "10.77.0.12")
        try net.updateDHCPHost(.add, hostXML: host.render())
        #expect(try net.xml().contains("52:54:00:00:00:02"))
        try net.updateDHCPHost(.delete, hostXML: host.render())
        #expect(try !net.xml().contains("52:54:00:00:00:02"))

        try net.destroy()
        try net.undefine()
        #expect(try conn.networkIfPresent(named: name) == nil)
    }

    @Test func unknownNetworkIsNotFound() throws {
        let conn = try openTest()
        #expect { _ = try conn.network(named: "no-such-vlan") } throws: { ($0 as! LibvirtError).isNotFound }
    }
}
