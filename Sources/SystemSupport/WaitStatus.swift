/// How a child program ended, from waitpid(2)'s status word.
public struct WaitStatus: Sendable, Equatable, CustomStringConvertible {
    /// The status word as waitpid(2) gives it; -1 when the wait itself failed.
    public let raw: Int32

    public init(raw: Int32) { self.raw = raw }

    /// The exit code; nil when the program was killed by a signal (or could not be waited for).
    public var exitCode: Int32? { raw >= 0 && raw & 0x7f == 0 ? (raw >> 8) & 0xff : nil }

    /// True for exit code 0.
    public var succeeded: Bool { exitCode == 0 }

    public var description: String {
        if raw < 0 { return "not waited for" }
        return raw & 0x7f == 0 ? "exit status \((raw >> 8) & 0xff)" : "killed by signal \(raw & 0x7f)"
    }
}
