import Foundation
import LibvirtXML
@testable import Reconciler
import Testing

/// A no-op re-apply depends on this: the facts read back from a domain's XML are those of the
/// spec it was defined from (else every apply would redefine every processor).
@Suite struct DomainFactsTests {
    @Test func theFactsOfARenderedDomainAreTheFactsOfItsSpec() throws {
        let spec = DomainSpec(name: "t-p1", uuid: "6f1b7e7a-0000-8000-8000-000000000001", type: "test", vcpus: 2, memoryMiB: 256,
                              kernel: "/images/vmlinuz", initrd: "/images/initrd", cmdline: "console=ttyS0 vp.name=t-p1",
                              interfaces: [InterfaceSpec(network: "t-front", mac: "02:56:50:AA:00:01", tap: "vp025650aa0001")],
                              disks: [DiskSpec(source: .volume(pool: "t-data", volume: "v1"), target: "vdb", format: "qcow2")],
                              metadata: MetadataSpec(namespace: "https://virtualplatform.dev/xmlns/platform", prefix: "vp",
                                                     element: XMLTree("processor", ["platform": "t", "personality": "web"])))
        let facts = try DomainFacts(xml: spec.render())
        #expect(facts == DomainFacts(spec: spec))
        #expect(facts.personality == "web")
        #expect(facts.nics.map(\.mac) == ["02:56:50:aa:00:01"])
        #expect(facts.disks.map(\.source) == ["t-data/v1"])
    }
}
