import Foundation
#if canImport(Glibc)
import Glibc
#endif
import StateStore

/// The failover service under test: `vpctl serve -f FILE` as a child process, so that what is
/// measured or tested is the real daemon at the product's defaults.
public final class ServeChild: @unchecked Sendable {
    public let process: Process
    public var pid: pid_t { process.processIdentifier }
    public let log: String
    /// Started with options beyond the product's defaults (such as the hidden --step-delay-ms).
    public let slowed: Bool

    /// `vpctl` beside the running executable: `swift build` puts vp-bench, vpctl and the test
    /// bundle in one bin directory (`swift build --show-bin-path`).
    public static func vpctl() throws -> String {
        let me = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let path = URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent("vpctl").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw HarnessError("vpctl", "not found beside \(me) (expected \(path); run `swift build --product vpctl`)")
        }
        return path
    }

    /// Starts `vpctl serve -f file --state state extra…`, its stderr appended to `log`. It does
    /// not wait: see `waitUntilStarted`. `launcher` (a program and its arguments, such as
    /// `unshare --net`) runs serve when given; it must exec serve in its place, so that `pid` is serve's.
    public init(file: String, state: String, extra: [String] = [], launcher: [String] = [], log: String) throws {
        self.log = log
        slowed = !extra.isEmpty
        process = Process()
        let serve = [try Self.vpctl(), "serve", "-f", file, "--state", state] + extra
        let command = launcher + serve
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        handle.seekToEndOfFile()
        process.standardError = handle
        process.standardOutput = FileHandle.nullDevice
        try process.run()
    }

    public var isRunning: Bool { process.isRunning }

    /// Until serve has recorded its start in the journal (events after `after`).
    public func waitUntilStarted(store: any PlatformStore, after: Int64, within limit: Duration = .seconds(30)) async throws {
        let deadline = ContinuousClock.now + limit
        let started = "started (pid \(pid))"
        // serve records more than a screenful at once (watching, service health): look far enough.
        while try !store.events(after: after, limit: 1000).contains(where: { $0.kind == .service && $0.detail.contains(started) }) {
            guard process.isRunning else { throw HarnessError("vpctl serve", "exited at start (status \(process.terminationStatus)); see \(log)") }
            guard ContinuousClock.now < deadline else {
                await kill()
                throw HarnessError("vpctl serve", "did not start within \(limit); see \(log)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// SIGKILL, as a crash would, and wait until it is gone (its locks are released then).
    public func kill() async {
        if process.isRunning { Glibc.kill(pid, SIGKILL) }
        await exited(within: .seconds(10))
    }

    /// SIGTERM, as an operator would; SIGKILL if it has not stopped within 15 s.
    public func stop() async {
        guard process.isRunning else { return }
        Glibc.kill(pid, SIGTERM)
        if await exited(within: .seconds(15)) { return }
        await kill()
    }

    /// Whether it exits within `limit` (never blocks longer).
    @discardableResult
    public func exited(within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while process.isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(10)) }
        return !process.isRunning
    }
}
