/// What kind of failure an error is: what the person or program that asked can do about it.
/// vpctl maps a kind to its exit code and the admin API to its HTTP status, each in one place.
public enum ErrorKind: String, Sendable, Codable, CaseIterable {
    /// The request or the definition is wrong: fix it and ask again.
    case invalidInput = "invalid-input"
    /// The object asked about does not exist.
    case notFound = "not-found"
    /// The platform's state forbids it now (a move unfinished, a processor busy): wait or change that state.
    case conflict
    /// Something the platform needs is not there or does not answer (libvirt, a lock, a host tool): retry later.
    case unavailable
    /// A fault of the controller or of what it drives that none of the above explains.
    case `internal`

    /// The kind of any error: its own if it has one, otherwise internal.
    public init(of error: any Error) {
        self = (error as? any KindedError)?.kind ?? .internal
    }
}

/// An error that says what kind of failure it is and what it is about.
///
/// `PlatformError` is the plain one; errors with more structure (a definition's issues with
/// file:line, an apply's undo report, libvirt's error code) conform and keep their structure.
public protocol KindedError: Error, CustomStringConvertible {
    var kind: ErrorKind { get }
    /// What it is about, as a person names it: "processor 'p3'", "volume 'data-1'". Nil when it is
    /// about the whole operation.
    var object: String? { get }
    /// Where in the object it applies: "memory", "personalities[1].nics[0].mac".
    var field: String? { get }
}

extension KindedError {
    public var object: String? { nil }
    public var field: String? { nil }
}
