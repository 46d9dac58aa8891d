import Dispatch
import Glibc

/// Runs programs with argument arrays through posix_spawn (never through a shell), for the
/// controller and the in-guest agent alike (Glibc only: the agent is a --static-swift-stdlib
/// binary that must not carry Foundation). Children get /dev/null (or a file) as stdin, default
/// signal handling, and none of the caller's other descriptors.
public enum ProgramRunner {
    /// A program that could not be started, or that ended other than with exit code 0.
    public struct Failure: KindedError, Sendable {
        /// A host program that failed is a fault of the controller or of that program.
        public var kind: ErrorKind { .internal }
        public var object: String? { arguments.first }
        /// The program and its arguments.
        public var arguments: [String]
        /// Why: the wait status, or the error that kept it from starting.
        public var cause: String
        /// What it wrote (stderr, or stdout and stderr together), as given.
        public var output: String

        public var description: String {
            let said = output.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed()
            return "`\(arguments.joined(separator: " "))` failed (\(cause))" + (said.isEmpty ? "" : ": " + String(said))
        }
    }

    /// What a program that ran wrote, and how it ended.
    public struct Outcome: Sendable {
        public var status: WaitStatus
        /// stdout; with `separateErrors: false` stdout and stderr together.
        public var output: String
        /// stderr with `separateErrors: true`, else empty.
        public var errors: String
    }

    /// Runs a program to completion and returns its output (stdout and stderr); throws `Failure`
    /// unless it exits with 0. Blocks the calling thread: never call it from an async task.
    @discardableResult
    public static func run(_ path: String, _ arguments: [String]) throws -> String {
        let outcome = try runForStatus(path, arguments)
        guard outcome.status.succeeded else {
            throw Failure(arguments: [path] + arguments, cause: outcome.status.description, output: outcome.output)
        }
        return outcome.output
    }

    /// Like `run`, for programs whose exit status is an answer (e2fsck): throws only when the
    /// program cannot be started. `stdinPath` and `stdoutPath` redirect stdin and stdout to files
    /// (stdout is then not captured); `niceness` > 0 lowers the child's CPU priority.
    public static func runForStatus(_ path: String, _ arguments: [String], stdinPath: String? = nil,
                                    stdoutPath: String? = nil, separateErrors: Bool = false,
                                    niceness: Int32 = 0) throws -> Outcome {
        let failure = { (cause: String) in Failure(arguments: [path] + arguments, cause: cause, output: "") }
        var outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        guard pipe(&outPipe) == 0 else { throw failure(errnoText()) }
        if separateErrors, pipe(&errPipe) != 0 {
            let cause = errnoText()
            close(outPipe[0]); close(outPipe[1])
            throw failure(cause)
        }
        let pid: pid_t
        do {
            pid = try spawn(path, arguments, stdinPath: stdinPath, stdoutPath: stdoutPath,
                            output: outPipe[1], errors: separateErrors ? errPipe[1] : outPipe[1])
        } catch {
            for fd in outPipe + errPipe where fd >= 0 { close(fd) }
            throw error
        }
        close(outPipe[1])
        if separateErrors { close(errPipe[1]) }
        if niceness != 0 { setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(pid), niceness) }
        let texts = readToEnd(separateErrors ? [outPipe[0], errPipe[0]] : [outPipe[0]])
        return Outcome(status: wait(for: pid), output: texts[0], errors: separateErrors ? texts[1] : "")
    }

    /// Starts a long-running program whose output goes to the caller's stdout; `onExit` gets its pid
    /// and wait status when it ends (from a dispatch thread that waits for exactly this child).
    public static func start(_ path: String, _ arguments: [String],
                             onExit: @escaping @Sendable (pid_t, WaitStatus) -> Void) throws -> pid_t {
        let pid = try spawn(path, arguments, stdinPath: nil, stdoutPath: nil, output: nil, errors: nil)
        DispatchQueue.global().async { onExit(pid, wait(for: pid)) }
        return pid
    }

    /// The path of `tool`: as given when it has a slash, else the first executable of that name in
    /// PATH or in the sbin directories (which a non-root PATH often lacks).
    public static func locate(_ tool: String) -> String? {
        if tool.contains("/") { return access(tool, X_OK) == 0 ? tool : nil }
        let path = getenv("PATH").map { String(cString: $0) } ?? ""
        let directories = path.split(separator: ":").map(String.init) + ["/usr/local/sbin", "/usr/sbin", "/sbin"]
        return directories.map { "\($0)/\(tool)" }.first { access($0, X_OK) == 0 }
    }

    /// Reads every descriptor to its end at once (poll), so that the child never stalls on a full
    /// pipe; closes them.
    private static func readToEnd(_ fds: [Int32]) -> [String] {
        var bytes = [[UInt8]](repeating: [], count: fds.count)
        var open = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while open.contains(where: { $0.fd >= 0 }) {
            if poll(&open, nfds_t(open.count), -1) < 0 {
                if errno == EINTR { continue }
                break
            }
            for i in open.indices where open[i].fd >= 0 && open[i].revents != 0 {
                let n = buffer.withUnsafeMutableBytes { read(open[i].fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { close(open[i].fd); open[i].fd = -1; continue }
                bytes[i] += buffer[..<n]
            }
        }
        for entry in open where entry.fd >= 0 { close(entry.fd) }
        return bytes.map { String(decoding: $0, as: UTF8.self) }
    }

    private static func spawn(_ path: String, _ arguments: [String], stdinPath: String?, stdoutPath: String?,
                              output: Int32?, errors: Int32?) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdinPath ?? "/dev/null", O_RDONLY, 0)
        if let stdoutPath {
            posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        } else if let output {
            posix_spawn_file_actions_adddup2(&actions, output, 1)
        }
        if let errors { posix_spawn_file_actions_adddup2(&actions, errors, 2) }
        closeOtherDescriptors(&actions)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)   // callers ignore SIGPIPE; their children must not
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for arg in argv { free(arg) } }
        var pid = pid_t()
        let rc = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        guard rc == 0 else {
            throw Failure(arguments: [path] + arguments, cause: String(cString: strerror(rc)), output: "")
        }
        return pid
    }

    /// Closes descriptors 3… in the child (glibc ≥ 2.34; the agent's sockets are not CLOEXEC, and a
    /// udhcpc holding port 7700 would keep a restarted agent from listening).
    private static func closeOtherDescriptors(_ actions: inout posix_spawn_file_actions_t) {
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return }
        _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
    }

    private static func wait(for pid: pid_t) -> WaitStatus {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return WaitStatus(raw: -1) }
        }
        return WaitStatus(raw: status)
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}
