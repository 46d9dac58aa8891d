import Foundation
import ServiceDataPlane
import PlatformModel
import PlatformRender
import Testing

/// The rendered libvirt XML is compared byte for byte with files under Golden/.
/// After an intended change, regenerate them with VP_UPDATE_GOLDEN=1 swift test --filter GoldenTests
/// and review the diff.
@Suite struct GoldenTests {
    static let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    func rendered() throws -> DesiredState {
        let p = try PlatformLoader.parse(validYAML, file: "t.yaml").definition
        let allocation = try Allocator.allocate(p, remembered: [:])
        let bindings = Placement.bind(p, remembered: [:])
        return Renderer.render(p, allocations: allocation.nics, bindings: bindings, domainTypes: ["local": "qemu"],
                               image: BootImage(kernel: "/img/vmlinuz", initrd: "/img/initrd.img", cmdline: "console=ttyS0 quiet"))
    }

    func check(_ name: String, _ xml: String) throws {
        let url = Self.goldenDirectory.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["VP_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: Self.goldenDirectory, withIntermediateDirectories: true)
            try xml.write(to: url, atomically: true, encoding: .utf8)
        }
        let golden = try String(contentsOf: url, encoding: .utf8)
        #expect(xml == golden, "\(name) differs from its golden file")
    }

    @Test func networksMatchGolden() throws {
        let state = try rendered()
        for net in state.networks { try check("network-\(net.spec.name).xml", net.spec.render()) }
    }

    @Test func processorsMatchGolden() throws {
        let state = try rendered()
        for proc in state.processors { try check("processor-\(proc.spec.name).xml", proc.spec.render()) }
    }

    @Test func poolMatchesGolden() throws {
        let state = try rendered()
        try check("pool-t-data.xml", state.pools[0].spec.render())
    }

    /// Every personality NIC has the fixed tap name its port-security rules match, with its own address.
    @Test func everyPersonalityNICHasThePortTheRulesName() throws {
        let state = try rendered()
        let p = try PlatformLoader.parse(validYAML, file: "t.yaml").definition
        let allocation = try Allocator.allocate(p, remembered: [:])
        let ports = PortSecurityRuleset(platform: p.platform, ports: allocation.nics.values.map {
            .init(tap: Naming.tap(mac: $0.mac), mac: $0.mac, ip: $0.ip)
        }).ports
        let nics = state.processors.flatMap(\.spec.interfaces)
        #expect(!nics.isEmpty)
        for nic in nics {
            #expect(nic.tap == Naming.tap(mac: nic.mac))
            #expect(ports.contains { $0.tap == nic.tap && $0.mac == nic.mac.lowercased() }, "\(nic.mac) has its rules")
        }
    }

    /// A qcow2 volume is read by QEMU as qcow2, in apply and in failover's attach alike (both
    /// take the personality's devices from `Renderer.devicesOf`).
    @Test func aVolumesFormatReachesItsDisksDriverType() throws {
        let p = try PlatformLoader.parse(validYAML, file: "t.yaml").definition
        let db = try #require(p.personalities.first { $0.name == "db" })
        let devices = Renderer.devicesOf(db, in: p, allocations: [:])
        #expect(devices.disks.map(\.format) == ["qcow2"])
        let state = try rendered()
        let carrier = try #require(state.processors.first { $0.personality == "db" })
        #expect(carrier.spec.render().contains("<driver name=\"qemu\" type=\"qcow2\""))
        let web = try #require(state.processors.first { $0.personality == "web" })
        #expect(web.spec.render().contains("<driver name=\"qemu\" type=\"raw\""))
        #expect(state.pools[0].volumes.map(\.format) == ["raw", "qcow2"])
    }

    @Test func renderingIsDeterministic() throws {
        #expect(try rendered().processors.map { $0.spec.render() } == rendered().processors.map { $0.spec.render() })
    }

    @Test func membersHaveInterfacesAndNonMembersNone() throws {
        let state = try rendered()
        let web = try #require(state.processors.first { $0.personality == "web" })
        let db = try #require(state.processors.first { $0.personality == "db" })
        let standby = try #require(state.processors.first { $0.personality == nil })
        #expect(Set(web.spec.interfaces.map(\.network)) == ["t-front", "t-back"])
        #expect(db.spec.interfaces.map(\.network) == ["t-back"])
        #expect(standby.spec.interfaces.isEmpty && standby.spec.disks.isEmpty)
        #expect(standby.role == .hotStandby)
        // The 802.1Q tag is rendered only for Open vSwitch hosts.
        #expect(!state.networks[0].spec.render().contains("<tag"))
        var p = try PlatformLoader.parse(validYAML, file: "t.yaml").definition
        p.hosts[0].switchType = .openvswitch
        let ovs = Renderer.render(p, allocations: [:], bindings: [:], domainTypes: [:],
                                  image: BootImage(kernel: "k", initrd: "i", cmdline: ""))
        #expect(ovs.networks[0].spec.render().contains("<tag id=\"100\">"))
        #expect(ovs.networks[0].spec.render().contains("<virtualport type=\"openvswitch\">"))
    }
}
