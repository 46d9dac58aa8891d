import CLibvirt
import Foundation
import SystemSupport

/// An error reported by libvirt, with what was being done when it happened.
///
/// `description` reads like "defining domain 'p3': XML error: …", so it can be shown to a user as is.
public struct LibvirtError: KindedError, Sendable, Equatable {
    /// libvirt's `virErrorNumber` (e.g. `VIR_ERR_NO_DOMAIN`).
    public let code: Int32
    /// libvirt's `virErrorDomain`: the subsystem that raised it (e.g. `VIR_FROM_QEMU`).
    public let domain: Int32
    /// libvirt's message.
    public let message: String
    /// What the caller was doing, e.g. "defining domain 'p3'".
    public let operation: String

    public init(code: Int32, domain: Int32, message: String, operation: String) {
        self.code = code; self.domain = domain; self.message = message; self.operation = operation
    }

    public var description: String { "\(operation): \(message)" }

    /// The object looked up does not exist (domain, network, pool, volume, metadata, …).
    public var isNotFound: Bool { kind == .notFound }

    /// The object is not running (e.g. destroying a domain that is already off).
    public var isNotRunning: Bool { code == Int32(VIR_ERR_OPERATION_INVALID.rawValue) }

    /// The driver does not implement the call (e.g. keepalive on `test:///default`).
    public var isUnsupported: Bool { code == Int32(VIR_ERR_NO_SUPPORT.rawValue) }

    /// The connection to the daemon is gone or could not be made.
    public var isConnectionFailure: Bool {
        [VIR_ERR_SYSTEM_ERROR, VIR_ERR_NO_CONNECT, VIR_ERR_RPC, VIR_ERR_AUTH_FAILED]
            .map { Int32($0.rawValue) }.contains(code)
    }

    /// Captures libvirt's last error on this thread (libvirt keeps it thread-local).
    /// The error is read before `operation` is evaluated: describing the operation may call
    /// libvirt (e.g. for an object's name), and every libvirt call resets the last error.
    static func last(_ operation: () -> String) -> LibvirtError {
        let err = virGetLastError()
        let code = err?.pointee.code ?? -1
        let domain = err?.pointee.domain ?? 0
        let message = err?.pointee.message.map { String(cString: $0) } ?? "unknown libvirt error"
        virResetLastError()
        return LibvirtError(code: code, domain: domain, message: message, operation: operation())
    }

    static func last(_ operation: String) -> LibvirtError { last { operation } }
}



// MARK: - Call helpers: every C call goes through one of these, so no failure is silent.

/// Throws libvirt's error when a C call returned a negative status.
@discardableResult
func check(_ status: Int32, _ operation: @autoclosure () -> String) throws -> Int32 {
    if status < 0 { throw LibvirtError.last(operation) }
    return status
}

/// Throws libvirt's error when a C call returned NULL.
func check<T>(_ pointer: T?, _ operation: @autoclosure () -> String) throws -> T {
    guard let pointer else { throw LibvirtError.last(operation) }
    return pointer
}

/// Takes ownership of a string libvirt allocated, frees it, and returns its contents.
func takeString(_ pointer: UnsafeMutablePointer<CChar>?, _ operation: @autoclosure () -> String) throws -> String {
    let p = try check(pointer, operation())
    defer { free(p) }
    return String(cString: p)
}

/// Wraps every element of a libvirt-allocated array of handles, then frees the array itself.
func takeArray<Handle>(_ array: UnsafeMutablePointer<OpaquePointer?>?, count: Int32,
                       _ wrap: (OpaquePointer) -> Handle) -> [Handle] {
    guard let array else { return [] }
    defer { free(array) }
    return (0..<Int(max(count, 0))).compactMap { array[$0].map(wrap) }
}

/// Reads a UUID string that libvirt writes into a caller-provided buffer.
func readUUID(_ operation: @autoclosure () -> String, _ fill: (UnsafeMutablePointer<CChar>) -> Int32) throws -> String {
    try withUnsafeTemporaryAllocation(of: CChar.self, capacity: Int(VIR_UUID_STRING_BUFLEN)) { buffer in
        let base = buffer.baseAddress!
        base.initialize(repeating: 0, count: buffer.count)
        try check(fill(base), operation())
        return String(cString: base)
    }
}
