import AdminProtocol
import SystemSupport

/// The daemon answered with an error (RFC 9457 problem details): its words, and its kind
/// (invalid-input, not-found, conflict, unavailable, …) for the exit status.
public struct DaemonProblem: KindedError, Sendable, Equatable {
    public let problem: ProblemDetails
    public init(_ problem: ProblemDetails) { self.problem = problem }

    /// The problem's kind as the CLI's exit status reads it: the daemon's refusals of the request
    /// itself (malformed, unauthorized, too large) are invalid input, as they would be run directly.
    public var kind: ErrorKind {
        switch problem.kind {
        case "invalid-request", "unauthorized", "too-large": .invalidInput
        default: ErrorKind(rawValue: problem.kind) ?? .internal
        }
    }
    public var object: String? { problem.object }
    public var field: String? { problem.field }
    public var status: Int { problem.status }

    /// The detail as the daemon wrote it, then every issue of an invalid definition.
    public var description: String {
        ([problem.detail] + (problem.issues ?? []).map { "  \($0)" }).joined(separator: "\n")
    }
}

/// The daemon could not be asked, or its answer could not be read: where, and why.
public struct DaemonUnreachable: KindedError, Sendable, Equatable {
    public var kind: ErrorKind { .unavailable }
    public let address: AdminClient.Address
    public let cause: String
    public var description: String { "the daemon on \(address): \(cause)" }
}
