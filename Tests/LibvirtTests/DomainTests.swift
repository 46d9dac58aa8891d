import Testing
import Libvirt
import LibvirtXML

@Suite struct DomainTests {
    @Test func defineStartDestroyUndefine() throws {
        let conn = try openTest()
        let name = uniqueName("p")
        let dom = try conn.defineDomain(xml: testDomainSpec(name).render())
        #expect(dom.name == name)
        #expect(try dom.isPersistent())
        #expect(try dom.status().state == .shutoff)
        #expect(dom.id == nil)

        try dom.start()
        #expect(try dom.status() == conn.domain(named: name).status())
        #expect(try dom.status().state == .running)
        #expect(try dom.status().reason == "booted")
        #expect(dom.id != nil)
        #expect(try conn.domain(uuid: dom.uuid()).name == name)
        #expect(try conn.domains().contains { $0.name == name })

        try dom.destroy()
        #expect(try dom.status().state == .shutoff)
        #expect(try dom.status().reason == "destroyed")
        try dom.undefine()
        #expect(try conn.domainIfPresent(named: name) == nil)
    }

    @Test func domainStatesAreEachDomainsStateInOneCall() throws {
        let conn = try openTest()
        let off = try conn.defineDomain(xml: testDomainSpec(uniqueName("off")).render())
        let on = try conn.defineDomain(xml: testDomainSpec(uniqueName("on")).render())
        let stopped = try conn.defineDomain(xml: testDomainSpec(uniqueName("stop")).render())
        defer { for d in [off, on, stopped] { try? d.destroy(); try? d.undefine() } }
        try on.start()
        try stopped.start()
        try stopped.destroy()
        let states = try conn.domainStates()
        for dom in [off, on, stopped] {
            #expect(states[dom.name] == (try dom.status()), "the state virDomainGetState gives, reason included")
        }
        #expect(states[on.name]?.state == .running)
        #expect(states[off.name]?.state == .shutoff)
        #expect(states[stopped.name]?.reason == "destroyed")
    }

    @Test func unknownDomainIsNotFound() throws {
        let conn = try openTest()
        #expect {
            _ = try conn.domain(named: "no-such-domain")
        } throws: { error in
            let e = error as! LibvirtError
            return e.isNotFound && e.description.hasPrefix("looking up domain 'no-such-domain': ")
        }
    }

    @Test func malformedXMLDefinesNothing() throws {
        let conn = try openTest()
        #expect {
            _ = try conn.defineDomain(xml: "<domain type='test'><name>broken</name><memory>")
        } throws: { error in
            (error as! LibvirtError).operation == "defining domain 'broken'"
        }
        #expect(try conn.domainIfPresent(named: "broken") == nil)
    }

    @Test func xmlRoundTripsTheDefinition() throws {
        let conn = try openTest()
        let name = uniqueName("x")
        let dom = try conn.defineDomain(xml: testDomainSpec(name).render())
        defer { try? dom.undefine() }
        let xml = try dom.xml(inactive: true)
        #expect(xml.contains("<name>\(name)</name>"))
        #expect(xml.contains("console=ttyS0"))
    }

    @Test func metadataIsStoredAndRemoved() throws {
        let conn = try openTest()
        let dom = try conn.defineDomain(xml: testDomainSpec(uniqueName("m")).render())
        defer { try? dom.undefine() }
        let ns = "https://virtualplatform.dev/xmlns/test"
        #expect(try dom.metadata(uri: ns) == nil)
        try dom.setMetadata(xml: "<owner platform='demo'/>", key: "vp", uri: ns)
        #expect(try dom.metadata(uri: ns)?.contains("platform=\"demo\"") == true)
        try dom.removeMetadata(uri: ns)
        #expect(try dom.metadata(uri: ns) == nil)
    }

    @Test func rendersMetadataIntoTheDefinition() throws {
        let conn = try openTest()
        var spec = testDomainSpec(uniqueName("md"))
        let ns = "https://virtualplatform.dev/xmlns/owner"
        spec.metadata = MetadataSpec(namespace: ns, prefix: "vp", element: XMLTree("owner", ["platform": "demo"]))
        let dom = try conn.defineDomain(xml: spec.render())
        defer { try? dom.undefine() }
        #expect(try dom.metadata(uri: ns)?.contains("platform=\"demo\"") == true)
    }

    @Test func unsupportedHotplugIsAClearErrorAndChangesNothing() throws {
        // The test driver has no device hot-plug (the real daemon's is covered by the integration
        // tests): the failure must name the domain and leave the definition as it was.
        let conn = try openTest()
        let name = uniqueName("d")
        let dom = try conn.defineDomain(xml: testDomainSpec(name).render())
        defer { try? dom.undefine() }
        let before = try dom.xml(inactive: true)
        let disk = DiskSpec(source: .file(path: "/var/lib/vp/data.img"), target: "vdb")
        #expect {
            try dom.attachDevice(xml: disk.render(), .config)
        } throws: { error in
            let e = error as! LibvirtError
            return e.isUnsupported && e.operation == "attaching a device to domain '\(name)'"
        }
        #expect(try dom.xml(inactive: true) == before)
    }

    @Test func qemuMonitorIsRefusedOutsideQEMU() throws {
        let conn = try openTest()
        let dom = try conn.defineDomain(xml: testDomainSpec(uniqueName("q")).render())
        defer { try? dom.undefine() }
        #expect {
            _ = try dom.qemuMonitorCommand(#"{"execute":"query-status"}"#)
        } throws: { error in
            (error as! LibvirtError).operation.hasPrefix("sending a QEMU monitor command to domain")
        }
    }

    @Test func manyHandlesAreFreedWithoutCrashing() throws {
        let conn = try openTest()
        let name = uniqueName("h")
        let dom = try conn.defineDomain(xml: testDomainSpec(name).render())
        defer { try? dom.undefine() }
        for _ in 0..<2_000 { _ = try conn.domain(named: name).name }
        for _ in 0..<200 { _ = try conn.domains().count }
        #expect(try conn.domain(named: name).name == name)
    }
}
