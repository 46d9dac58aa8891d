import Foundation
import SystemSupport

/// The defaults of `PlatformStore.exclusively`.
public enum PlatformLock {
    /// How long `exclusively` waits for another holder of the platform lock before it gives up.
    public static let deadline: Duration = .seconds(120)

    /// The default report of a wait for the platform lock: one line on stderr.
    public static func reportWaiting(_ holder: LockHolder) {
        FileHandle.standardError.write(Data("waiting for the platform lock, held by \(holder)\n".utf8))
    }
}

/// Holds a platform's service lock while it lives (`PlatformStore.acquireServiceLock`).
public protocol ServiceLock: AnyObject, Sendable {}

/// Who holds the platform lock: recorded by the holder when it takes the lock.
public struct LockHolder: Sendable, Equatable, CustomStringConvertible {
    public var pid: Int32?
    public var command: String

    public static var current: LockHolder {
        LockHolder(pid: getpid(), command: CommandLine.arguments.joined(separator: " "))
    }

    public init(pid: Int32?, command: String) { self.pid = pid; self.command = command }

    public var description: String {
        guard let pid else { return "an unknown process" }
        return command.isEmpty ? "pid \(pid)" : "pid \(pid) (\(command))"
    }
}

/// The platform lock stayed taken past the deadline: unavailable, try again when the holder is done.
public struct LockTimeout: KindedError, Sendable {
    public var kind: ErrorKind { .unavailable }
    public var object: String? { "platform lock \(lock)" }
    /// The lock: a file, or the name of an in-memory store.
    public let lock: String
    public let holder: LockHolder
    public let waited: Duration
    public var description: String {
        "the platform is locked by \(holder) (lock \(lock)); gave up after \(waited.components.seconds) s, nothing was changed. "
            + "The lock is released when that process ends."
    }
}
