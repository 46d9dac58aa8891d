import Dispatch
import FoundationEssentials
import Glibc

// The agent uses FoundationEssentials, not Foundation: Foundation (Process, FileHandle, NSLock…)
// drags ICU and its 34 MB of data into a --static-swift-stdlib binary (72 MB instead of ~20 MB),
// which the guest would have to unpack into RAM at every boot.

/// One line on the console (stdout), prefixed "vp-agent: ", written at once.
func log(_ message: String) {
    let bytes = Array("vp-agent: \(message)\n".utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes[offset...].withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
        if n < 0 { if errno == EINTR { continue }; return }
        offset += n
    }
}

/// Runs programs with argument arrays through posix_spawn (never through a shell). Children get
/// /dev/null as stdin, default signal handling, and none of the agent's other descriptors.
enum Command {
    struct Failure: Error, CustomStringConvertible {
        var arguments: [String]
        var status: String
        var output: String
        var description: String {
            "`\(arguments.joined(separator: " "))` failed (\(status))"
                + (output.isEmpty ? "" : ": " + trimmed(output))
        }
    }

    /// Runs a program to completion and returns its output (stdout and stderr). Blocks the calling
    /// thread: call it from a dispatch queue, never from an async task.
    @discardableResult
    static func run(_ path: String, _ arguments: [String]) throws -> String {
        let (status, output) = try runForStatus(path, arguments)
        guard status == 0 else {
            throw Failure(arguments: [path] + arguments, status: describe(status: status), output: output)
        }
        return output
    }

    /// Like `run`, for programs whose exit status is an answer (e2fsck): returns the wait status
    /// (`exitCode(of:)` reads it) and the output; throws only when the program cannot be started.
    /// `niceness` > 0 lowers the child's CPU priority (set right after it is spawned).
    static func runForStatus(_ path: String, _ arguments: [String], niceness: Int32 = 0) throws -> (status: Int32, output: String) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw Failure(arguments: [path] + arguments, status: errnoText(), output: "") }
        let pid: pid_t
        do {
            pid = try spawn(path, arguments, output: fds[1])
        } catch {
            close(fds[0]); close(fds[1])
            throw error
        }
        close(fds[1])
        if niceness != 0 { setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(pid), niceness) }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            output += buffer[..<n]
        }
        close(fds[0])
        return (wait(for: pid), String(decoding: output, as: UTF8.self))
    }

    /// The exit code in a wait status; nil when the program was killed by a signal.
    static func exitCode(of status: Int32) -> Int32? {
        status & 0x7f == 0 ? (status >> 8) & 0xff : nil
    }

    /// Starts a long-running program whose output goes to the console; `onExit` gets its pid and
    /// wait status when it ends (from a dispatch thread that waits for exactly this child).
    static func start(_ path: String, _ arguments: [String],
                      onExit: @escaping @Sendable (pid_t, Int32) -> Void) throws -> pid_t {
        let pid = try spawn(path, arguments, output: nil)
        DispatchQueue.global().async { onExit(pid, wait(for: pid)) }
        return pid
    }

    static func describe(status: Int32) -> String {
        status & 0x7f == 0 ? "exit status \((status >> 8) & 0xff)" : "killed by signal \(status & 0x7f)"
    }

    private static func spawn(_ path: String, _ arguments: [String], output: Int32?) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if let output {
            posix_spawn_file_actions_adddup2(&actions, output, 1)
            posix_spawn_file_actions_adddup2(&actions, output, 2)
        }
        closeOtherDescriptors(&actions)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)   // the agent ignores SIGPIPE; its children must not
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
            throw Failure(arguments: [path] + arguments, status: String(cString: strerror(rc)), output: "")
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

    private static func wait(for pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return -1 }
        }
        return status
    }
}

func errnoText() -> String { String(cString: strerror(errno)) }

/// A socket of `type` bound to 0.0.0.0:`port` for one of the agent's responders: close-on-exec
/// (a udhcpc started by the agent must not hold the port) and SO_REUSEADDR (an agent restarted by
/// init rebinds at once despite connections in TIME_WAIT).
func boundSocket(_ type: __socket_type, port: UInt16, for purpose: String) throws -> Int32 {
    let kind = type == SOCK_STREAM ? "TCP" : "UDP"
    let fd = socket(AF_INET, Int32(type.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw AgentError("\(purpose): \(kind) socket: \(errnoText())") }
    var yes: Int32 = 1
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = INADDR_ANY
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else {
        let cause = errnoText()
        close(fd)
        throw AgentError("\(purpose): binding \(kind) :\(port): \(cause)")
    }
    return fd
}

func trimmed(_ text: some StringProtocol) -> String {
    String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
}

/// Small readers for the kernel's text files.
enum KernelFiles {
    /// A file's text, trimmed; nil if it cannot be read.
    static func read(_ path: String) -> String? {
        readExact(path).map { trimmed($0) }
    }

    /// A file's text exactly as stored; nil if it cannot be read.
    static func readExact(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Names in a /sys directory, sorted.
    static func list(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }

    /// `vp.name=<name>` from /proc/cmdline, else "processor".
    static func processorName(cmdline: String? = read("/proc/cmdline")) -> String {
        for word in (cmdline ?? "").split(whereSeparator: \.isWhitespace) where word.hasPrefix("vp.name=") {
            let name = word.dropFirst("vp.name=".count)
            if !name.isEmpty { return String(name) }
        }
        return "processor"
    }

    /// "N of M MiB memory available", from /proc/meminfo.
    static func memoryAvailable() -> String {
        var fields: [String: Int] = [:]
        for line in (read("/proc/meminfo") ?? "").split(separator: "\n") {
            let words = line.split(separator: " ")
            if words.count >= 2, let kib = Int(words[1]) { fields[String(words[0].dropLast())] = kib }
        }
        return "\((fields["MemAvailable"] ?? 0) / 1024) of \((fields["MemTotal"] ?? 0) / 1024) MiB memory available"
    }

    /// Seconds since boot, from /proc/uptime.
    static func uptime() -> Double {
        read("/proc/uptime")?.split(separator: " ").first.flatMap { Double($0) } ?? 0
    }
}

struct AgentError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
