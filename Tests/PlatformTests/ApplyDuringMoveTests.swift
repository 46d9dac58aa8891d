import Foundation
import Libvirt
import LibvirtXML
import PlatformEngine
import PlatformModel
import Reconciler
import StateStore
import SystemSupport
import TestSupport
import Testing

/// While a move is `down` (no standby left, nothing touched), an apply may add processors, the
/// way to give that move a standby, and nothing else: the move's own processors are left for
/// after it, and any other change is refused with nothing changed.
@Suite struct ApplyDuringMoveTests {
    let u = "fe" + UUID().uuidString.prefix(6).lowercased()

    func definition(processors: Int, extraVolume: Bool = false) -> String {
        var text = validYAML.replacingOccurrences(of: "platform: t\n", with: "platform: \(u)\n")
            .replacingOccurrences(of: "02:56:50:00:02:20", with: "02:56:52:00:02:20")
            .replacingOccurrences(of: "10.40.", with: "10.106.")
            .replacingOccurrences(of: "t-p", with: "\(u)-p").replacingOccurrences(of: "t-data", with: "\(u)-data")
            .replacingOccurrences(of: "  - { name: web, address: 10.106.9.1, port: 80, protocol: tcp, members: [web] }\n", with: "")
            .replacingOccurrences(of: "services:\n", with: "")
        if processors == 4 {
            text = text.replacingOccurrences(of: "    - { name: \(u)-p3, host: local }\n",
                                             with: "    - { name: \(u)-p3, host: local }\n    - { name: \(u)-p4, host: local }\n")
        }
        if extraVolume {
            let v2 = "        - { name: v2, capacity: 64MiB, format: qcow2 }\n"
            #expect(text.contains(v2), "the fixture's last volume")
            text = text.replacingOccurrences(of: v2, with: v2 + "        - { name: v3, capacity: 64MiB }\n")
        }
        return text
    }

    func engine(_ text: String, state: String) throws -> PlatformEngine {
        let file = (state as NSString).deletingLastPathComponent + "/\(UUID().uuidString).yaml"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return try PlatformEngine(file: file, statePath: state)
    }

    /// On libvirt's test driver, which is in this process only: nothing is left on a host.
    @Test func anApplyWhileAMoveIsDownAddsProcessorsAndNothingElse() async throws {
        let dir = try ScratchDirectory.make("vp-down")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let state = dir + "/state.sqlite"
        let three = try engine(definition(processors: 3), state: state)
        try await three.apply(cause: "test")
        let conn = try #require(three.connections["local"])
        let p1 = "\(u)-p1"
        var move = try #require(try three.store.declare(
            FailoverRecord(personality: "web", source: p1, sourceHost: "local", planned: false, reason: "test", detectedAt: Date()),
            event: PlatformEvent(kind: .detection, detail: "test")))
        try three.store.advance(move, to: .down, event: nil)
        move = try #require(try three.store.failover(id: move.id!))
        let webMACs = Set(try DomainFacts(xml: try conn.domain(named: p1).xml(inactive: true)).nics.map(\.mac))
        #expect(!webMACs.isEmpty)

        let four = try engine(definition(processors: 4), state: state)
        let plan = try await four.apply(cause: "test")
        #expect(plan.changes.map(\.object) == ["processor \(u)-p4"], "only the new processor")
        #expect(try conn.domainIfPresent(named: "\(u)-p4") != nil)
        #expect(Set(try DomainFacts(xml: try conn.domain(named: p1).xml(inactive: true)).nics.map(\.mac)) == webMACs,
                "the move's own processor is left as it is")
        #expect(try four.store.failover(id: move.id!)?.step == .down, "the move is the failover engine's")

        let volume = try engine(definition(processors: 4, extraVolume: true), state: state)
        #expect(await kindThrown { try await volume.apply(cause: "test") } == .conflict)
        #expect(try !conn.storagePool(named: "\(u)-data").volumes().contains { $0.name == "v3" }, "nothing was changed")

        try four.store.advance(move, to: .fenced, event: nil)
        #expect(await kindThrown { try await four.apply(cause: "test") } == .conflict, "a move past down owns its processors")
        _ = try await four.destroy(cause: "test cleanup")
    }
}
