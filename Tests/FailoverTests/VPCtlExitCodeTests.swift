import Foundation
import StateStore
import Testing
import TestSupport

/// The real vpctl binary: each kind of failure exits with its code and says what it is about on
/// stderr; a command line that does not parse exits 2 like any invalid input. On libvirt's test
/// driver (in the vpctl process only) with a state store of the test's own.
@Suite struct VPCtlExitCodeTests {
    static let vpctl = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/debug/vpctl").path

    struct Ran { var status: Int32; var stderr: String }

    func run(_ arguments: [String]) throws -> Ran {
        try #require(FileManager.default.isExecutableFile(atPath: Self.vpctl), "vpctl is built at \(Self.vpctl)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.vpctl)
        process.arguments = arguments
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        let said = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Ran(status: process.terminationStatus, stderr: String(decoding: said, as: UTF8.self))
    }

    /// The platform's definition and its SQLite store (web on p1, db on p2).
    func platform() throws -> (t: EnginePlatform, state: String) {
        let t = try EnginePlatform(store: .sqlite)
        return (t, try #require((t.store as? SQLitePlatformStore)?.path))
    }

    @Test func aBadDefinitionIsInvalidInput() throws {
        let (t, state) = try platform()
        let original = try String(contentsOfFile: t.file, encoding: .utf8)
        try original.replacingOccurrences(of: "vcpus: 1", with: "vcpus: 100").write(toFile: t.file, atomically: true, encoding: .utf8)
        let ran = try run(["plan", "-f", t.file, "--state", state])
        #expect(ran.status == 2)
        #expect(ran.stderr.contains("\(t.file):4: processors.vcpus: 100 is outside 1–64"), "file:line and the field: \(ran.stderr)")
    }

    @Test func aCommandLineThatDoesNotParseIsInvalidInputToo() throws {
        let ran = try run(["failover", "--no-such-flag"])
        #expect(ran.status == 2, "not ArgumentParser's 64: \(ran.stderr)")
        #expect(ran.stderr.contains("Usage: vpctl"), "\(ran.stderr)")
    }

    @Test func anUnknownProcessorIsNotFound() throws {
        let (t, state) = try platform()
        let ran = try run(["failover", "-f", t.file, "--state", state, "web", "--to", "nosuch"])
        #expect(ran.status == 3)
        #expect(ran.stderr.contains("Error: processor 'nosuch': not in the platform definition"), "\(ran.stderr)")
    }

    @Test func anApplyWhileAMoveIsUnfinishedIsAConflict() throws {
        let (t, state) = try platform()
        try #require(try t.declare("web", off: t.p(1), planned: true) != nil)
        let ran = try run(["apply", "-f", t.file, "--state", state])
        #expect(ran.status == 4)
        #expect(ran.stderr.contains("Error: personality web: being moved (\(t.p(1)) → ?, step declared); nothing was changed"), "\(ran.stderr)")
    }

    @Test func anUnreachableLibvirtIsUnavailable() throws {
        let (t, state) = try platform()
        let original = try String(contentsOfFile: t.file, encoding: .utf8)
        // Nothing listens on port 1 of loopback: the connection is refused at once.
        try original.replacingOccurrences(of: "test:///default", with: "qemu+tcp://127.0.0.1:1/system")
            .write(toFile: t.file, atomically: true, encoding: .utf8)
        let ran = try run(["status", "-f", t.file, "--state", state])
        #expect(ran.status == 5)
        #expect(ran.stderr.contains("Error: host 'a', field 'hosts[0].uri': cannot reach it (\(t.file):2)"), "\(ran.stderr)")
    }

    @Test func helpSaysWhatEachExitCodeMeans() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.vpctl)
        process.arguments = ["--help"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        for code in ["0 done", "1 internal", "2 invalid input", "3 not found", "4 conflict", "5 unavailable"] {
            #expect(text.split(whereSeparator: \.isWhitespace).joined(separator: " ").contains(code), "\(code) in --help")
        }
    }
}
