import PlatformModel

/// An error as RFC 9457 problem details (`application/problem+json`), carrying the error's kind:
/// what the admin API answers and what its client reads back.
public struct ProblemDetails: Codable, Sendable, Equatable {
    /// invalid-request, invalid-input, unauthorized, not-found, conflict, too-large, unavailable, internal.
    public var kind: String
    public var type: String
    public var title: String
    public var status: Int
    public var detail: String
    /// For an invalid definition: every problem, with file, line and field.
    public var issues: [ConfigIssue]?

    public init(status: Int, title: String, kind: String, detail: String, issues: [ConfigIssue]? = nil) {
        self.kind = kind
        type = "urn:virtualplatform:problem:\(kind)"
        self.title = title
        self.status = status
        self.detail = detail
        self.issues = issues
    }
}
