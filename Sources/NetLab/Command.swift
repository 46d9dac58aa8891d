import Foundation
import SystemSupport

/// Host programs for the test networks, through `ProgramRunner`; `start` hands back a Foundation
/// `Process` because the benchmarks that start load servers stop them through it.
public enum Command {
    @discardableResult
    public static func run(_ tool: String, _ arguments: [String], allowFailure: Bool = false) throws -> String {
        let ran = try ProgramRunner.runForStatus(try locate(tool), arguments, separateErrors: true)
        if !ran.status.succeeded && !allowFailure {
            throw PlatformError(.internal, tool, "\(arguments.joined(separator: " ")) failed (\(ran.status)): \(ran.errors.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return ran.output
    }

    /// Starts a long-running program; the caller stops it.
    public static func start(_ tool: String, _ arguments: [String], output: FileHandle? = nil) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try locate(tool))
        process.arguments = arguments
        process.standardOutput = output ?? FileHandle.nullDevice
        process.standardError = output ?? FileHandle.nullDevice
        try process.run()
        return process
    }

    static func locate(_ tool: String) throws -> String {
        guard let path = ProgramRunner.locate(tool) else { throw PlatformError(.unavailable, tool, "not installed") }
        return path
    }
}
