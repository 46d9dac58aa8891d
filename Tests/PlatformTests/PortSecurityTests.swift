import Foundation
@testable import HostDoctor
import Libvirt
import LibvirtXML
import Testing

/// Port security's host side: a host that cannot enforce the filter is refused, naming the host
/// and the cause; an unchanged filter is not redefined.
@Suite struct PortSecurityTests {
    @Test func interfaceReferencesTheFilterWithItsAddressOnlyWhenAsked() {
        let filtered = InterfaceSpec(network: "n", mac: "52:54:00:00:00:01", portSecurityIP: "10.1.1.5").render()
        #expect(filtered.contains("<filterref filter=\"vp-port-security\">"))
        #expect(filtered.contains("<parameter name=\"IP\" value=\"10.1.1.5\"></parameter>")
                || filtered.contains("<parameter name=\"IP\" value=\"10.1.1.5\"/>"))
        #expect(!InterfaceSpec(network: "n", mac: "52:54:00:00:00:01").render().contains("filterref"))
    }

    /// The filter drops DHCP replies from the guest before clean-traffic's IPv4 accept (-650),
    /// after its MAC check (-800), and builds on clean-traffic.
    @Test func filterDropsDHCPRepliesBeforeCleanTrafficAcceptsIPv4() throws {
        let xml = PortSecurityFilter.render()
        let canonical = try #require(PortSecurity.canonical(xml))
        #expect(canonical.contains("rule[action=drop,direction=out,priority=-750](ip[protocol=udp,srcportend=67,srcportstart=67]()"))
        #expect(canonical.contains("filterref[filter=clean-traffic]()"))
        // libvirt's formatting (single quotes, other attribute order) is the same filter.
        let libvirtStyle = """
            <filter name='vp-port-security' chain='root'>
              <uuid>\(PortSecurityFilter.uuid)</uuid>
              <rule priority='-750' action='drop' direction='out'>
                <ip srcportend='67' protocol='udp' srcportstart='67'/>
              </rule>
              <filterref filter='clean-traffic'/>
            </filter>
            """
        #expect(PortSecurity.canonical(libvirtStyle) == canonical)
        #expect(PortSecurity.canonical(libvirtStyle.replacingOccurrences(of: "'67'/>", with: "'68'/>")) != canonical)
    }

    /// libvirt's test driver has no nwfilter driver: as a real host, it is refused before
    /// anything changes, with the host and the cause in the message.
    @Test func aHostWithoutTheNWFilterDriverIsRefused() throws {
        let connection = try Connection(uri: "test:///default")
        defer { connection.close() }
        #expect {
            try PortSecurity.ensure(connection, uri: "qemu:///system")
        } throws: { error in
            let text = "\(error)"
            return error is PortSecurity.Unavailable
                && text.hasPrefix("host qemu:///system cannot enforce port security on personality NICs")
                && text.contains("libvirt's nwfilter driver does not answer") && text.hasSuffix("nothing was changed")
        }
        #expect(PortSecurity.check(connection, uri: "qemu:///system").status == .failed)
        // As itself, the mock host runs no guests: nothing to filter, nothing refused.
        #expect(try PortSecurity.ensure(connection, uri: "test:///default") == false)
    }

    @Test func localAndRemoteURIs() {
        #expect(PortSecurity.isLocal("qemu:///system"))
        #expect(!PortSecurity.isLocal("qemu+tcp://10.0.0.2/system"))
        #expect(PortSecurity.isMock("test:///default"))
    }
}
