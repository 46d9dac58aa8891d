import Foundation
import SystemSupport

/// The kernel's connection tracking for service flows, through the `conntrack` tool (Debian
/// package `conntrack`; arguments passed as an array, never through a shell).
public enum Conntrack {
    public struct Flow: Sendable, Equatable {
        public var service: String
        public var port: Int
        public var l4: String
        public var backend: String

        public init(service: String, port: Int, l4: String, backend: String) {
            self.service = service; self.port = port; self.l4 = l4; self.backend = backend
        }
    }

    /// Forgets the flows NATed to a backend that left the table, so the next packet of a client
    /// that was talking to it (a retransmitted SYN, a datagram) is hashed afresh to a healthy
    /// backend instead of following the dead binding.
    public static func forget(_ flow: Flow) throws {
        // Exit status 1 with "0 flow entries have been deleted" is not an error.
        let result = try run(["-D", "-p", flow.l4, "--orig-dst", flow.service, "--dport", String(flow.port),
                              "--reply-src", flow.backend])
        if result.status != 0 && !result.stderr.contains("0 flow entries") {
            throw PlatformError(.internal, "conntrack", "-D for \(flow.service):\(flow.port) → \(flow.backend) failed: \(result.stderr)")
        }
    }

    /// Established flows from clients of the service to the backend (what a drain waits for).
    public static func established(_ flow: Flow) throws -> Int {
        var args = ["-L", "-p", flow.l4, "--orig-dst", flow.service, "--dport", String(flow.port), "--reply-src", flow.backend]
        if flow.l4 == "tcp" { args += ["--state", "ESTABLISHED"] }
        let result = try run(args)
        return result.stdout.split(separator: "\n").filter { !$0.isEmpty }.count
    }

    static func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let candidates = ["/usr/sbin/conntrack", "/sbin/conntrack", "/usr/bin/conntrack"]
        guard let tool = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw PlatformError(.unavailable, "conntrack", "the tool is not installed (Debian package 'conntrack'; scripts/bootstrap-host.sh installs it)")
        }
        let ran = try ProgramRunner.runForStatus(tool, arguments, separateErrors: true)
        return (ran.status.exitCode ?? -1, ran.output, ran.errors)
    }
}
