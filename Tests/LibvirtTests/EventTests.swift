import Testing
import Foundation
import Libvirt
import LibvirtXML
import TestSupport

@Suite struct EventTests {
    @Test func lifecycleEventsArriveAsAStream() async throws {
        let conn = try openTest()
        let name = uniqueName("ev")
        let events = try conn.events()
        let dom = try conn.defineDomain(xml: testDomainSpec(name).render())
        try dom.start()
        try dom.destroy()
        try dom.undefine()

        let mine = try await collect(events, within: .seconds(10), "lifecycle events of \(name)") { event in
            if case .domain(let e) = event { return e.domainName == name && e.kind == .undefined }
            return false
        }.compactMap { event -> DomainEvent? in
            guard case .domain(let e) = event, e.domainName == name else { return nil }
            return e
        }
        #expect(mine.map(\.kind) == [.defined, .started, .stopped, .undefined])
        let stop = try #require(mine.first { $0.kind == .stopped })
        #expect(stop.detail == "destroyed")
        #expect(!stop.isUnexpectedStop)
    }

    @Test func streamEndsWithClosedWhenTheConnectionCloses() async throws {
        let conn = try openTest()
        let events = try conn.events()
        conn.close()
        let all = try await collect(events, within: .seconds(10), "the event stream to end after close")
        #expect(all.last == .closed(.client))
    }
}
