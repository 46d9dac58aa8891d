import Foundation
import HostDoctor
import Libvirt
import LibvirtXML
import NFTables
import PlatformModel
import PlatformRender
import ServiceDataPlane
import Testing

/// Port security's host side: the rules as the kernel holds them, the fixed tap names they match,
/// and hosts where they cannot be enforced refused before anything changes.
@Suite struct PortSecurityTests {
    static let port = PortSecurityRuleset.Port(tap: "vp0256504fea4e", mac: "02:56:50:4F:EA:4E", ip: "10.40.1.10")

    @Test func personalityNICsHaveTheTapNameTheRulesMatch() {
        #expect(Naming.tap(mac: "02:56:50:4F:EA:4E") == "vp0256504fea4e")
        #expect(Naming.tap(mac: "02:56:50:4f:ea:4e").count <= 15)   // IFNAMSIZ - 1
        let xml = InterfaceSpec(network: "n", mac: "02:56:50:4f:ea:4e", tap: "vp0256504fea4e").render()
        #expect(xml.contains("<target dev=\"vp0256504fea4e\"></target>"))
        #expect(!InterfaceSpec(network: "n", mac: "02:56:50:4f:ea:4e").render().contains("<target"))
    }

    static var nftWorks: Bool { (try? NFTables().hasTable(family: "bridge", name: "vp_none")) != nil }

    /// Programmed into this host's kernel (a table of its own, removed after) and listed back: what
    /// a guest on that port may send.
    @Test(.enabled(if: nftWorks, "needs nftables and root"))
    func rulesInTheKernelKeepThePortToItsMACAndAddress() throws {
        let ruleset = PortSecurityRuleset(platform: "unit_port_security", ports: [Self.port])
        let nft = try NFTables()
        try nft.apply(ruleset.replaceTable())
        defer { try? nft.apply(PortSecurityRuleset.deleteTable(ruleset.table)) }
        let listing = try Self.nftList(["list", "table", "bridge", ruleset.table])
        let rules = listing.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { $0.hasPrefix("iifname") }
        #expect(rules == [
            "iifname \"vp0256504fea4e\" ether saddr != 02:56:50:4f:ea:4e drop",
            "iifname \"vp0256504fea4e\" arp saddr ether != 02:56:50:4f:ea:4e drop",
            "iifname \"vp0256504fea4e\" arp saddr ip != 10.40.1.10 drop",
            "iifname \"vp0256504fea4e\" ip saddr 0.0.0.0 udp sport 68 udp dport 67 accept",
            "iifname \"vp0256504fea4e\" ip saddr != 10.40.1.10 drop",
            "iifname \"vp0256504fea4e\" udp sport 67 drop",
            "iifname \"vp0256504fea4e\" ether type != { ip, arp, 0x8035 } drop",
        ])
        #expect(listing.contains("type filter hook prerouting priority filter; policy accept;"))
        // Programming again replaces the table (one transaction), it does not add a second copy.
        try nft.apply(ruleset.replaceTable())
        #expect(try Self.nftList(["list", "table", "bridge", ruleset.table]) == listing)
    }

    @Test func remoteHostsAreRefusedNamingTheHost() {
        #expect {
            try PortSecurity.requireEnforceable(hosts: [("local", "qemu:///system"), ("far", "qemu+tcp://10.0.0.2/system")])
        } throws: { error in
            "\(error)" == "host 'far' cannot enforce port security on personality NICs (a guest could send with another "
                + "personality's MAC or address, or answer DHCP): it is remote (qemu+tcp://10.0.0.2/system), and this "
                + "controller programs the nftables of its own host only; nothing was changed"
        }
        // libvirt's mock driver runs no guests: nothing to enforce, nothing refused.
        #expect(throws: Never.self) { try PortSecurity.requireEnforceable(hosts: [("t", "test:///default")]) }
        #expect(LibvirtURI.isThisMachine("qemu:///system") && !LibvirtURI.isThisMachine("qemu+ssh://h/system"))
    }

    static func nftList(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/nft")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
