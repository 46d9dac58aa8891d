import AdminClient
import CommandOutput
import Foundation
import StateStore
import Testing
import TestSupport
@testable import vpctl

/// Each command that can go through the daemon prints, through it, what it prints working
/// directly: tables and `-o json`.
@Suite struct SameOutputTests {
    static let formats: [OutputFormat] = [.table, .json]

    @Test func statusIsTheSame() async throws {
        let f = try await CLIFixture()
        defer { Task { await f.tearDown() } }
        for format in Self.formats {
            let direct = try StatusCommand.text(try await f.direct.status(), format: format)
            let daemon = try StatusCommand.text(try await f.daemon.status(), format: format)
            #expect(daemon == direct)
            #expect(direct.contains(f.p(1)))
        }
    }

    @Test func serviceListShowAndAddressesAreTheSame() async throws {
        let f = try await CLIFixture(services: true)
        defer { Task { await f.tearDown() } }
        for format in Self.formats {
            let (directServices, daemonServices) = (try await f.direct.services(), try await f.daemon.services())
            #expect(try ServiceList.text(daemonServices, format: format) == ServiceList.text(directServices, format: format))
            let shown = try ServiceShow.text(directServices, service: "www", format: format)
            #expect(try ServiceShow.text(daemonServices, service: "www", format: format) == shown)
            #expect(shown.contains("10.109."))
            let (directLists, daemonLists) = (try await f.direct.addressLists(), try await f.daemon.addressLists())
            let addresses = try ServiceAddresses.text(directLists, service: "www", processor: f.p(2), format: format)
            #expect(addresses != nil)
            #expect(try ServiceAddresses.text(daemonLists, service: "www", processor: f.p(2), format: format) == addresses)
        }
    }

    @Test func eventsAndFollowedEventsAreTheSame() async throws {
        let f = try await CLIFixture()
        defer { Task { await f.tearDown() } }
        try f.platform.store.record(PlatformEvent(kind: .service, processor: f.p(1), personality: "web", detail: "before", durationMs: 12.5))
        for format in Self.formats {
            let direct = try await f.direct.events(last: 50), daemon = try await f.daemon.events(last: 50)
            #expect(!direct.isEmpty)
            let (daemonLines, directLines) = (try daemon.map { try EventsCommand.text($0, format: format) },
                                              try direct.map { try EventsCommand.text($0, format: format) })
            #expect(daemonLines == directLines, "\(daemonLines) vs \(directLines)")
            #expect(try JSONOutput.text(daemon) == JSONOutput.text(direct), "events -o json")
        }

        // --follow: both streams from the same event on see the next ones, in order, printed alike:
        // two recorded before the streams start, one while they run.
        let after = try #require(try f.platform.store.events(limit: 1).last?.id)
        for n in 1...2 { try f.platform.store.record(PlatformEvent(kind: .alert, processor: f.p(2), detail: "followed \(n)")) }
        let directStream = try await f.direct.follow(after: after), daemonStream = try await f.daemon.follow(after: after)
        // The third is recorded once both streams have caught up with the first two: they follow it live.
        var directSeen = try await collect(directStream, within: .seconds(30), "two events followed directly") { $0.detail == "followed 2" }
        var daemonSeen = try await collect(daemonStream, within: .seconds(30), "two events followed through the daemon") { $0.detail == "followed 2" }
        try f.platform.store.record(PlatformEvent(kind: .alert, processor: f.p(2), detail: "followed 3"))
        directSeen += try await collect(directStream, within: .seconds(30), "the third followed directly") { $0.detail == "followed 3" }
        daemonSeen += try await collect(daemonStream, within: .seconds(30), "the third followed through the daemon") { $0.detail == "followed 3" }
        #expect(directSeen.map(\.detail) == ["followed 1", "followed 2", "followed 3"])
        for format in Self.formats {
            let (daemonLines, directLines) = (try daemonSeen.map { try EventsCommand.text($0, format: format) },
                                              try directSeen.map { try EventsCommand.text($0, format: format) })
            #expect(daemonLines == directLines, "\(daemonLines) vs \(directLines)")
        }
    }

    /// A move is made once: two fixtures, the same steps, one directly and one through the
    /// daemon; their outputs (or errors) differ only in the platform's name, times and ids. (The
    /// test driver cannot hot-plug, so the move itself ends in libvirt's error, the same on both.)
    @Test func failoverFenceAndRepairPrintTheSame() async throws {
        let (a, b) = (try await CLIFixture(), try await CLIFixture())
        defer { Task { await a.tearDown(); await b.tearDown() } }
        func steps(_ f: CLIFixture, _ access: any PlatformAccess) async -> [String] {
            [await Self.outcome { try await FailoverCommand.text(access, personality: "web", to: f.p(1), abort: false, format: .table) },
             await Self.outcome { try await FailoverCommand.text(access, personality: "web", to: nil, abort: false, format: .json) },
             await Self.outcome { try await access.fence(f.p(3), confirm: true) },
             await Self.outcome { try await access.fence(f.p(2), confirm: false) },
             await Self.outcome { try await access.repair(f.p(3)) }]
                // Who acted: the daemon has no word of who asked it, and journals itself (the API has no field for it).
                .map { Self.normalized($0, name: f.name).replacingOccurrences(of: "admin API vouches", with: "test vouches") }
        }
        let direct = await steps(a, a.direct)
        let daemon = await steps(b, b.daemon)
        #expect(daemon == direct)
        // An unknown name: the daemon refuses it before the library call (404), in words of its own.
        for access in [a.direct, b.daemon] as [any PlatformAccess] {
            let refused = await Self.outcome { try await FailoverCommand.text(access, personality: "nope", to: nil, abort: false, format: .table) }
            #expect(refused.hasPrefix("error: personality 'nope'") && refused.contains("not in the platform definition"), "\(refused)")
        }
        #expect(direct[0] == "error: personality 'web': already on NAME-p1", "\(direct)")
        #expect(direct[2].contains("NAME-p3"), "\(direct)")
    }

    @Test func abortPrintsTheSame() async throws {
        let (a, b) = (try await CLIFixture(), try await CLIFixture())
        defer { Task { await a.tearDown(); await b.tearDown() } }
        func abort(_ f: CLIFixture, _ access: any PlatformAccess) async throws -> [String] {
            // A failure of web's processor declared, not carried on yet (no vpctl serve runs here).
            _ = try f.platform.store.declare(FailoverRecord(personality: "web", source: f.p(1), sourceHost: "local", planned: false,
                                                            reason: "test", detectedAt: Date()),
                                             event: PlatformEvent(kind: .detection, detail: "test"))
            var out: [String] = []
            // api is not being moved: an error, the same one.
            for personality in ["web", "api"] {
                out.append(await Self.outcome { try await FailoverCommand.text(access, personality: personality, to: nil, abort: true, format: .table) })
            }
            return out.map { Self.normalized($0, name: f.name) }
        }
        let direct = try await abort(a, a.direct)
        let daemon = try await abort(b, b.daemon)
        #expect(daemon == direct)
        #expect(direct == ["the move of web is aborted; it stays on NAME-p1", "error: personality 'api': not being moved: nothing to abort"])
    }

    /// What a call printed, or the error it threw as vpctl prints it.
    static func outcome(_ body: () async throws -> String) async -> String {
        do { return try await body() } catch { return "error: \(error)" }
    }

    /// The platform's name, times, durations and ids, which differ between two fixtures.
    static func normalized(_ text: String, name: String) -> String {
        var text = text.replacingOccurrences(of: name, with: "NAME")
        for (pattern, replacement) in [(#"\d{4}-\d\d-\d\dT[0-9:.]+Z"#, "TIME"), (#" in [0-9.,]+ ?m?s"#, " in DURATION"),
                                       (#""id" : \d+"#, #""id" : ID"#)] {
            text = text.replacingOccurrences(of: pattern, with: replacement, options: .regularExpression)
        }
        return text
    }
}
