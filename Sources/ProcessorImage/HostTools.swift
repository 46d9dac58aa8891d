import Foundation

/// Runs host programs (ldd, strip, gzip, sha256sum) with argument arrays, never through a shell.
enum HostTools {
    /// Runs `arguments[0]` (looked up in PATH), returns its output (stdout and stderr together);
    /// throws `toolFailed` on a non-zero exit. `stdinPath`/`stdoutPath` redirect stdin/stdout to
    /// files (then only stderr is captured).
    @discardableResult
    static func run(_ arguments: [String], stdinPath: String? = nil, stdoutPath: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = pipe
        var files: [FileHandle] = []
        defer { for file in files { try? file.close() } }
        if let stdinPath {
            guard let input = FileHandle(forReadingAtPath: stdinPath) else {
                throw ProcessorImageError.unreadable(path: stdinPath, cause: "cannot open")
            }
            files.append(input)
            process.standardInput = input
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        if let stdoutPath {
            guard FileManager.default.createFile(atPath: stdoutPath, contents: nil),
                  let out = FileHandle(forWritingAtPath: stdoutPath) else {
                throw ProcessorImageError.writeFailed(path: stdoutPath, cause: "cannot create file")
            }
            files.append(out)
            process.standardOutput = out
        }
        do { try process.run() } catch {
            throw ProcessorImageError.toolFailed(command: arguments, status: -1, output: error.localizedDescription)
        }
        // One pipe only, read to its end before waiting: the child can never stall on a full pipe.
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: output, as: UTF8.self)
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            throw ProcessorImageError.toolFailed(command: arguments, status: process.terminationStatus, output: text)
        }
        return text
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
