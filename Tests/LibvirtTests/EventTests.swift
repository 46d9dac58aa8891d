import Testing
import Foundation
import Libvirt
import LibvirtXML

@Suite struct EventTests {
    @Test func lifecycleEventsArriveAsAStream() async throws {
        let conn = try openTest()
        let name = uniqueName("ev")
        let events = try conn.events()
        let dom = try conn.defineDomain(xml: testDomainSpec(name).render())
        try dom.start()
        try dom.destroy()
        try dom.undefine()

        var seen: [DomainEvent.Kind] = []
        for await event in events {
            guard case .domain(let e) = event, e.domainName == name else { continue }
            seen.append(e.kind)
            if e.kind == .stopped { #expect(e.detail == "destroyed"); #expect(!e.isUnexpectedStop) }
            if e.kind == .undefined { break }
        }
        #expect(seen == [.defined, .started, .stopped, .undefined])
    }

    @Test func streamEndsWithClosedWhenTheConnectionCloses() async throws {
        let conn = try openTest()
        let events = try conn.events()
        conn.close()
        var last: ConnectionEvent?
        for await event in events { last = event }
        #expect(last == .closed(.client))
    }
}
