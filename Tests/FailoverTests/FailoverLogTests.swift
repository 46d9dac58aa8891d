import CommandOutput
@testable import Failover
import Foundation
import Libvirt
import LibvirtXML
import Logging
import StateStore
import Synchronization
import Testing
import TestSupport

/// `vpctl serve --log-format json`: a failover's log lines are JSON objects that say which move,
/// which processor and which personality they are about, as a log collector would filter them.
struct FailoverLogTests {
    /// The lines logged, each parsed as a JSON object.
    final class Captured: Sendable {
        let lines = Mutex<[String]>([])
        func objects() throws -> [[String: Any]] {
            try lines.withLock { $0 }.map { line in
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
                return try #require(object as? [String: Any], "a JSON object a line: \(line)")
            }
        }
    }

    @Test func aFailoversJSONLogLinesCarryTheMoveProcessorAndPersonality() async throws {
        let t = try EnginePlatform(subnet: "127.0.0", store: .sqlite)
        // web's processor is defined and off: the service's start-up scan declares it failed. No
        // standby is ready, so the move goes down: a step the log reports.
        let conn = try Connection(uri: "test:///default")
        let p1 = try conn.defineDomain(xml: DomainSpec(name: t.p(1), type: "test", memoryMiB: 64, kernel: "/boot/vmlinuz",
                                                       initrd: "/boot/initrd", cmdline: "").render())
        defer { try? p1.undefine() }
        let captured = Captured()
        var handler = JSONLogHandler(label: "vpctl.serve") { line in captured.lines.withLock { $0.append(line) } }
        handler.logLevel = .info
        let service = FailoverService(engine: try t.engine([:]), logger: Logger(label: "vpctl.serve", factory: { [handler] _ in handler }))
        let serving = Task { try await service.run() }
        defer { serving.cancel() }

        func lines(_ message: String) throws -> [[String: Any]] { try captured.objects().filter { $0["message"] as? String == message } }
        try await waitUntil("the declaration and the move's step logged", within: .seconds(60)) {
            try !lines("processor declared failed").isEmpty && !lines("failover step").isEmpty
        }
        let move = try #require(try t.store.failovers().first { $0.personality == "web" })
        let id = try #require(move.id)
        for line in try lines("processor declared failed") + lines("failover step") {
            #expect(line["level"] as? String != nil && line["label"] as? String == "vpctl.serve")
            #expect((line["time"] as? String).flatMap { try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse($0) } != nil)
            let metadata = try #require(line["metadata"] as? [String: Any], "\(line)")
            #expect(metadata["move"] as? String == "\(id)", "\(line)")
            #expect(metadata["processor"] as? String == t.p(1), "\(line)")
            #expect(metadata["personality"] as? String == "web", "\(line)")
        }
        #expect(try lines("failover step").contains { ($0["metadata"] as? [String: Any])?["step"] as? String == "down" })
    }
}
