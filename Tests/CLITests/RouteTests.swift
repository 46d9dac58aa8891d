import CommandOutput
import Foundation
import StateStore
import Testing
import TestSupport
@testable import vpctl

/// The `vpctl` binary choosing its path: through the daemon when its socket answers, directly
/// when there is none or only a stale socket (with a note), and the daemon's errors as its own.
@Suite struct RouteTests {
    static let vpctl = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/debug/vpctl").path

    struct Run { var status: Int32; var stdout: String; var stderr: String }

    /// Runs vpctl with `arguments` and waits for it (stdout and stderr read to their end).
    static func run(_ arguments: [String]) async throws -> Run {
        try #require(FileManager.default.isExecutableFile(atPath: vpctl), "vpctl is built at \(vpctl)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: vpctl)
        process.arguments = arguments
        let (out, err) = (Pipe(), Pipe())
        process.standardOutput = out
        process.standardError = err
        try process.run()
        async let stdout = readToEnd(out)
        async let stderr = readToEnd(err)
        let (o, e) = await (stdout, stderr)
        try await waitUntil("vpctl \(arguments.first ?? "") exits", within: .seconds(120)) { !process.isRunning }
        return Run(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    /// On a thread of its own: a blocking read on the task pool would starve the in-process daemon.
    static func readToEnd(_ pipe: Pipe) async -> Data {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: pipe.fileHandleForReading.readDataToEndOfFile()) }
        }
    }

    /// Binds a Unix socket at `path` and closes it without unlinking: what a killed daemon leaves.
    static func staleSocket(_ path: String) throws {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(bound == 0)
    }

    @Test func throughARunningDaemonTheBinaryPrintsWhatWorkingDirectlyPrints() async throws {
        let f = try await CLIFixture()
        defer { Task { await f.tearDown() } }
        // The child's own test driver is empty: only through the daemon does it see this platform's processors running.
        let run = try await Self.run(["status", "-f", f.file, "--state", f.state, "--socket", f.socket, "-o", "json"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.isEmpty, "no note when the daemon answers: \(run.stderr)")
        #expect(run.stdout == (try StatusCommand.text(try await f.direct.status(), format: .json)) + "\n")
    }

    @Test func aStaleSocketMeansDirectlyWithANote() async throws {
        let f = try await CLIFixture()
        defer { Task { await f.tearDown() } }
        try f.platform.store.record(PlatformEvent(kind: .service, processor: f.p(1), detail: "a marker event"))
        let stale = f.directory + "/stale.sock"
        try Self.staleSocket(stale)
        let viaStale = try await Self.run(["events", "-f", f.file, "--state", f.state, "--socket", stale])
        #expect(viaStale.status == 0, "\(viaStale.stderr)")
        let notes = viaStale.stderr.split(separator: "\n")
        #expect(notes.count == 1 && notes[0].contains("no daemon answers on \(stale)") && notes[0].contains("working directly"),
                "\(viaStale.stderr)")
        let forced = try await Self.run(["events", "-f", f.file, "--state", f.state, "--direct"])
        #expect(forced.status == 0 && forced.stderr.isEmpty, "\(forced.stderr)")
        #expect(viaStale.stdout == forced.stdout)
        #expect(viaStale.stdout.contains("a marker event"), "the store's events: \(viaStale.stdout)")

        let none = try await Self.run(["events", "-f", f.file, "--state", f.state, "--socket", f.directory + "/none.sock"])
        #expect(none.status == 0 && none.stderr.isEmpty, "no socket, no daemon, no note: \(none.stderr)")
        #expect(none.stdout == forced.stdout)
    }

    @Test func anErrorTheDaemonAnswersIsTheCommandsErrorWithItsExitStatus() async throws {
        let f = try await CLIFixture()
        defer { Task { await f.tearDown() } }
        // p1 carries web: repair refuses it, the same way on either path.
        let daemon = try await Self.run(["repair", "-f", f.file, "--state", f.state, "--socket", f.socket, f.p(1)])
        let direct = try await Self.run(["repair", "-f", f.file, "--state", f.state, "--direct", f.p(1)])
        #expect(direct.status == 4, "a refused repair is a conflict (exit 4): \(direct.stderr)")
        #expect(daemon.status == direct.status)
        #expect(daemon.stderr.contains("processor '\(f.p(1))': carries personality 'web'"), "\(daemon.stderr)")
        #expect(daemon.stderr == direct.stderr)
        #expect(daemon.stdout.isEmpty)
    }
}
