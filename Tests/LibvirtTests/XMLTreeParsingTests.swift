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

    @Test func valuesWithMarkupCharactersAreEscapedAndReadBack() throws {
        let tree = XMLTree("domain", ["note": "say \"hi\" & <bye>\n\tnow"]) {
            XMLTree("cmdline", text: "a<b && c>d 'q' \"w\"")
            XMLTree("name", text: "été")
        }
        let xml = tree.render()
        #expect(xml.contains(#"note="say &quot;hi&quot; &amp; &lt;bye&gt;&#10;&#9;now""#))
        #expect(xml.contains("<cmdline>a&lt;b &amp;&amp; c&gt;d 'q' \"w\"</cmdline>"))
        #expect(try XMLTree.parse(xml) == tree)
    }

    @Test func theLayoutIsIndentedExceptAroundText() {
        let tree = XMLTree("a") {
            XMLTree("b", text: "x")
            XMLTree("c")
            XMLTree("d", text: "mixed", children: [XMLTree("e")])
        }
        #expect(tree.render() == "<a>\n  <b>x</b>\n  <c></c>\n  <d>mixed<e></e></d>\n</a>\n")
    }

    @Test func whatLibvirtAndOtherToolsWriteIsRead() throws {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <!DOCTYPE domain [ <!ELEMENT domain ANY> ]>
            <!-- WARNING: THIS IS AN AUTO-GENERATED FILE. -->
            <domstatus state='running'>
              <domain type="kvm" xmlns:vp='https://virtualplatform.dev/xmlns/platform'>
                <name>p&amp;1&#x21;&#33;</name>
                <metadata><vp:processor platform='t'/></metadata>
                <description><![CDATA[<not> & markup]]></description>
                <empty   />
              </domain>
            </domstatus>
            """
        let root = try XMLTree.parse(xml)
        let domain = try #require(root.child("domain"))
        #expect(root[attribute: "state"] == "running")
        #expect(domain.attributes.map(\.0) == ["type", "xmlns:vp"])
        #expect(domain.child("name")?.text == "p&1!!")
        #expect(domain.at("metadata", "vp:processor")?[attribute: "platform"] == "t")
        #expect(domain.child("description")?.text == "<not> & markup")
        #expect(domain.child("empty") == XMLTree("empty"))
    }

    @Test func aDocumentThatIsNotXMLIsRefusedSayingWhere() {
        #expect {
            try XMLTree.parse("<domain>\n<name>p1</domain>")
        } throws: { error in
            guard let error = error as? XMLParseError else { return false }
            return error.line == 2 && error.description.contains("line 2")
        }
    }

    @Test(arguments: ["<a>&nbsp;</a>", "<a b='1' b='2'/>", "<a><b></a>", "<a>", "<a/><b/>", "text", "<a b=c/>"])
    func malformedDocumentsAreRefused(_ xml: String) {
        #expect(throws: XMLParseError.self) { try XMLTree.parse(xml) }
    }
}
