import Dispatch
import FoundationEssentials
import Glibc
import SystemSupport

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

func errnoText() -> String { String(cString: strerror(errno)) }

/// A socket of `type` bound to 0.0.0.0:`port` for one of the agent's responders: close-on-exec
/// (a udhcpc started by the agent must not hold the port) and SO_REUSEADDR (an agent restarted by
/// init rebinds at once despite connections in TIME_WAIT).
func boundSocket(_ type: __socket_type, port: UInt16, for purpose: String) throws -> Int32 {
    let kind = type == SOCK_STREAM ? "TCP" : "UDP"
    let fd = socket(AF_INET, Int32(type.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw PlatformError(.internal, "\(purpose) \(kind) socket", "cannot create it: \(errnoText())") }
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
        throw PlatformError(.unavailable, "\(purpose) \(kind) port \(port)", "cannot bind it: \(cause)")
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
