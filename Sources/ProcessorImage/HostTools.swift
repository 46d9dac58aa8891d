import Foundation
import SystemSupport

/// Runs host programs (ldd, strip, gzip, sha256sum) with argument arrays, never through a shell.
enum HostTools {
    /// Runs `arguments[0]` (looked up in PATH), returns its output (stdout and stderr together);
    /// throws `toolFailed` on a non-zero exit. `stdinPath`/`stdoutPath` redirect stdin/stdout to
    /// files (then only stderr is captured).
    @discardableResult
    static func run(_ arguments: [String], stdinPath: String? = nil, stdoutPath: String? = nil) throws -> String {
        if let stdinPath, !FileManager.default.isReadableFile(atPath: stdinPath) {
            throw ProcessorImageError.unreadable(path: stdinPath, cause: "cannot open")
        }
        guard let tool = ProgramRunner.locate(arguments[0]) else {
            throw ProcessorImageError.toolFailed(command: arguments, status: -1, output: "\(arguments[0]) is not installed")
        }
        let ran: ProgramRunner.Outcome
        do {
            ran = try ProgramRunner.runForStatus(tool, Array(arguments.dropFirst()), stdinPath: stdinPath, stdoutPath: stdoutPath)
        } catch {
            throw ProcessorImageError.toolFailed(command: arguments, status: -1, output: "\(error)")
        }
        guard ran.status.succeeded else {
            throw ProcessorImageError.toolFailed(command: arguments, status: ran.status.exitCode ?? -1, output: ran.output)
        }
        return ran.output
    }

    /// SHA-256 of a file, hex.
    static func sha256(of path: String) throws -> String {
        let output = try run(["sha256sum", "--", path])
        guard let digest = output.split(separator: " ").first, digest.count == 64 else {
            throw ProcessorImageError.toolFailed(command: ["sha256sum", path], status: 0, output: output)
        }
        return String(digest)
    }
}

/// The shared libraries a dynamically linked program needs, from `ldd` output.
public enum SharedLibraries {
    /// Absolute paths of the libraries (including the dynamic loader) named in `lddOutput`, in
    /// order; the vDSO is skipped. Throws for a library ldd could not find.
    public static func parse(lddOutput: String, binary: String = "binary") throws -> [String] {
        var paths: [String] = []
        for rawLine in lddOutput.split(separator: "\n") {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.contains("statically linked") { continue }
            if let arrow = line.range(of: "=>") {
                let name = line[..<arrow.lowerBound].trimmingCharacters(in: .whitespaces)
                let rest = line[arrow.upperBound...].trimmingCharacters(in: .whitespaces)
                if rest.hasPrefix("not found") {
                    throw ProcessorImageError.sharedLibraryNotFound(binary: binary, library: name)
                }
                if let path = rest.split(separator: " ").first, path.hasPrefix("/") { paths.append(String(path)) }
            } else if let path = line.split(separator: " ").first, path.hasPrefix("/") {
                paths.append(String(path))   // the dynamic loader: "/lib64/ld-linux-x86-64.so.2 (0x…)"
            }
        }
        var seen = Set<String>()
        return paths.filter { seen.insert($0).inserted }
    }

    /// Runs `ldd binary` and parses it. A static binary needs nothing.
    public static func of(binary: String) throws -> [String] {
        let output: String
        do {
            output = try HostTools.run(["ldd", binary])
        } catch ProcessorImageError.toolFailed(_, _, let text) where text.contains("not a dynamic executable") {
            return []
        }
        return try parse(lddOutput: output, binary: binary)
    }
}
