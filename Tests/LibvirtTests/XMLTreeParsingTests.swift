import Foundation
import LibvirtXML
import Testing

/// libvirt's XML read back into values: what the builder writes reads back the same, with
/// escaping undone, and a document that is not XML is refused saying where.
@Suite struct XMLTreeParsingTests {
    @Test func whatTheBuilderWritesReadsBackTheSame() throws {
        let tree = XMLTree("network", ["ipv6": "no"]) {
            XMLTree("name", text: "a&b <c>")
            XMLTree("ip", ["address": "10.0.0.1", "prefix": "24"]) {
                XMLTree("dhcp") {
                    XMLTree("host", ["ip": "10.0.0.10", "mac": "02:00:00:00:00:01"])
                    XMLTree("host", ["ip": "10.0.0.11", "mac": "02:00:00:00:00:02"])
                }
            }
        }
        #expect(try XMLTree.parse(tree.render()) == tree)
    }

    @Test func childrenAttributesAndTextAreFoundByName() throws {
        let xml = """
            <domain type='test'>
              <memory unit='KiB'>131072</memory>
              <os><kernel>/boot/k</kernel><cmdline/></os>
              <devices>
                <interface type='network'><mac address='02:00:00:00:00:01'/></interface>
                <disk type='volume'><target dev='vdb'/></disk>
                <interface type='network'><mac address='02:00:00:00:00:02'/></interface>
              </devices>
            </domain>
            """
        let root = try XMLTree.parse(xml)
        #expect(root[attribute: "type"] == "test")
        #expect(root.child("memory")?.text == "131072")
        #expect(root.at("os", "kernel")?.text == "/boot/k")
        #expect(root.at("os", "cmdline")?.text == nil)
        #expect(root.child("devices")?.text == nil) // only the indentation between children
        #expect(root.at("devices")?.children("interface").compactMap { $0.child("mac")?[attribute: "address"] }
            == ["02:00:00:00:00:01", "02:00:00:00:00:02"])
        #expect(root.all("mac").count == 2)
    }

    @Test func aDocumentThatIsNotXMLIsRefusedSayingWhere() {
        #expect {
            try XMLTree.parse("<domain>\n<name>p1</domain>")
        } throws: { error in
            guard let error = error as? XMLParseError else { return false }
            return error.line == 2 && error.description.contains("line 2")
        }
    }
}
