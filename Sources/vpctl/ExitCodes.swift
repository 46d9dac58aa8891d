import ArgumentParser
import Foundation
import Glibc
import SystemSupport

/// vpctl's exit status: the one place where an error kind becomes an exit code (the admin API's
/// `httpStatus(for:)` is the other mapping of the same kinds). A command line that does not parse
/// is invalid input too, so ArgumentParser's usage status (64) becomes 2, as for a bad definition.
enum ExitCodes {
    static let ok: Int32 = 0
    static let usage: Int32 = 2

    static func code(for kind: ErrorKind) -> Int32 {
        switch kind {
        case .internal: 1
        case .invalidInput: 2
        case .notFound: 3
        case .conflict: 4
        case .unavailable: 5
        }
    }

    /// For `vpctl --help`.
    static let table = """
        Exit status: 0 done; 1 internal error; 2 invalid input (the command line or the definition); \
        3 not found (a processor, personality, service or move); 4 conflict (the platform's state forbids it \
        now, e.g. an unfinished move); 5 unavailable (libvirt, a host, a lock or a tool does not answer).
        """
}

extension VPCtl {
    /// Runs the command the arguments name; an error leaves with its kind's exit code and its
    /// description on stderr.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let error as any KindedError {
            FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
            Glibc.exit(ExitCodes.code(for: error.kind))
        } catch {
            // ArgumentParser's own: help and version (0), a bad command line (usage), `ExitCode` as thrown.
            let code = exitCode(for: error)
            guard code == .validationFailure else { exit(withError: error) }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Glibc.exit(ExitCodes.usage)
        }
    }
}
