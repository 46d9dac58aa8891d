import AdminProtocol

/// The daemon answered with an error (RFC 9457 problem details): its words, and its kind
/// (invalid-input, not-found, conflict, unavailable, …) for the exit status.
public struct DaemonProblem: Error, CustomStringConvertible, Sendable, Equatable {
    public let problem: ProblemDetails
    public init(_ problem: ProblemDetails) { self.problem = problem }

    public var kind: String { problem.kind }
    public var status: Int { problem.status }

    /// The detail as the daemon wrote it, then every issue of an invalid definition.
    public var description: String {
        ([problem.detail] + (problem.issues ?? []).map { "  \($0)" }).joined(separator: "\n")
    }
}

/// The daemon could not be asked, or its answer could not be read: where, and why.
public struct DaemonUnreachable: Error, CustomStringConvertible, Sendable, Equatable {
    public let address: AdminClient.Address
    public let cause: String
    public var description: String { "the daemon on \(address): \(cause)" }
}
