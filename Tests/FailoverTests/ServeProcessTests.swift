import Foundation
import StateStore
import Testing
import TestSupport

/// A real `vpctl serve` process on libvirt's test driver, driven by signals as an init system
/// drives it: SIGHUP reloads the definition (a bad file changes nothing and serve keeps running),
/// SIGTERM stops it cleanly with exit status 0.
struct ServeProcessTests {
    static let vpctl = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/debug/vpctl").path

    @Test func serveReloadsOnHangupAndStopsCleanlyOnTerminate() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.vpctl), "vpctl is built at \(Self.vpctl)")
        let t = try EnginePlatform(subnet: "127.0.0", store: .sqlite)
        let state = try #require((t.store as? SQLitePlatformStore)?.path, "a child serve needs the store in a file")
        let original = try String(contentsOfFile: t.file, encoding: .utf8)
        let serve = Process()
        serve.executableURL = URL(fileURLWithPath: Self.vpctl)
        serve.arguments = ["serve", "-f", t.file, "--state", state, "--log-level", "error"]
        serve.standardOutput = FileHandle.nullDevice
        serve.standardError = FileHandle.nullDevice
        try serve.run()
        defer { if serve.isRunning { kill(serve.processIdentifier, SIGKILL) } }
        func journal(_ text: String) throws -> Bool { try t.store.events(limit: 200).contains { $0.detail.contains(text) } }
        try await waitUntil("serve started", within: .seconds(60)) { try journal("vpctl serve started (pid \(serve.processIdentifier))") }

        let p5 = "\(t.prefix)-p5"
        try original.replacingOccurrences(of: "{ name: \(t.p(4)), host: a }", with: "{ name: \(t.p(4)), host: a }, { name: \(p5), host: a }")
            .write(toFile: t.file, atomically: true, encoding: .utf8)
        kill(serve.processIdentifier, SIGHUP)
        try await waitUntil("the definition reloaded", within: .seconds(60)) { try journal("definition reloaded from \(t.file): processors +\(p5)") }

        try original.replacingOccurrences(of: "vcpus: 1", with: "vcpus: many").write(toFile: t.file, atomically: true, encoding: .utf8)
        kill(serve.processIdentifier, SIGHUP)
        try await waitUntil("the bad definition refused", within: .seconds(60)) { try journal("definition not reloaded from \(t.file)") }
        #expect(serve.isRunning, "a bad file does not stop serve")

        kill(serve.processIdentifier, SIGTERM)
        try await waitUntil("serve exits", within: .seconds(60)) { !serve.isRunning }
        #expect(serve.terminationReason == .exit && serve.terminationStatus == 0)
        #expect(try journal("vpctl serve stopped (pid \(serve.processIdentifier))"))
    }
}
