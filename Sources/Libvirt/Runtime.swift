import CLibvirt
import Foundation

/// Process-wide libvirt set-up, done once before the first connection:
/// initialise the library, silence its default stderr error printer (errors are thrown instead),
/// and run libvirt's default event loop on a dedicated thread, which drives domain events,
/// connection-close callbacks and keepalive.
enum Runtime {
    private static let started: Bool = {
        if virInitialize() < 0 { fatalError("libvirt: virInitialize failed") }
        virSetErrorFunc(nil) { _, _ in }
        if virEventRegisterDefaultImpl() < 0 { fatalError("libvirt: cannot register the default event loop") }
        let thread = Thread {
            while true { _ = virEventRunDefaultImpl() }
        }
        thread.name = "libvirt-event-loop"
        thread.start()
        return true
    }()

    static func ensureStarted() { _ = started }
}

/// A libvirt version number such as 9.0.0.
public struct LibvirtVersion: Sendable, Equatable, Comparable, CustomStringConvertible, Codable {
    public let major: Int, minor: Int, release: Int
    public init(major: Int, minor: Int, release: Int) {
        self.major = major; self.minor = minor; self.release = release
    }
    /// libvirt encodes versions as major * 1,000,000 + minor * 1,000 + release.
    init(encoded: UInt) {
        self.init(major: Int(encoded / 1_000_000), minor: Int(encoded / 1_000 % 1_000), release: Int(encoded % 1_000))
    }
    public var description: String { "\(major).\(minor).\(release)" }
    public static func < (a: Self, b: Self) -> Bool {
        (a.major, a.minor, a.release) < (b.major, b.minor, b.release)
    }

    /// Version of the libvirt library this process is linked against.
    public static func library() throws -> LibvirtVersion {
        Runtime.ensureStarted()
        var version: UInt = 0
        try check(virGetVersion(&version, nil, nil), "reading the libvirt library version")
        return LibvirtVersion(encoded: version)
    }
}
