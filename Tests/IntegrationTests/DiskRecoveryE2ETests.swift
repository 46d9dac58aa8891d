import AgentClient
import AgentProtocol
import Failover
import Foundation
import Libvirt
import Testing
import TestSupport

extension RealDaemon { @Suite struct DiskRecoveryE2ETests {
    /// A personality's disk whose processor was SIGKILLed right after a write, with the
    /// filesystem mounted: on the standby it moves to, the agent reports an ext4 whose journal
    /// was replayed by e2fsck before the mount, and the marker written last is intact.
    @Test func diskOfAKilledProcessorIsRecoveredBeforeItIsMounted() async throws {
        try await FailoverPlatform.with(name: "agd", subnet: 119) { t in
            try await t.bringUp()
            let formatted = try #require(try await t.agent("web").report().disk("vdb"))
            #expect(formatted.filesystem == .ext4, "a blank disk is formatted as ext4, with a journal")

            // The last write before the kill: the marker the new processor must find.
            let last = "web before the failure"
            try await t.agent("web").writeMarker(disk: "vdb", text: last)
            let source = t.p(1)
            #expect(try t.processor(of: "web") == source)
            kill(try t.qemuPid(source), SIGKILL)
            // `serve` declares a processor that should run but does not when it starts: no race
            // with its watchers arming.
            let domain = try t.conn.domain(named: source)
            try await waitUntil("libvirt reports \(source) off after SIGKILL", within: .seconds(30)) { try !domain.isActive() }
            t.startService()
            let move = try await t.waitForMove(of: "web")
            try await t.expectServed("web", on: try #require(move.target), peer: "db")

            let report = try await t.agent("web").waitForReport(until: .now + .seconds(30)) { $0.disk("vdb")?.check != nil }
            let disk = try #require(report.disk("vdb"))
            #expect(disk.marker == last, "the marker written right before the kill is intact")
            #expect(disk.filesystem == .ext4)
            let check = try #require(disk.check, "the agent says which check ran before the mount")
            #expect(check.tool == "e2fsck -p")
            #expect(check.journalRecovery, "the killed writer left the journal to replay: \(check)")
            #expect(check.result != .failed, "\(check)")
            #expect(check.exitStatus.map { $0 < 4 } == true, "\(check)")
        }
    }
}}
