import PlatformModel

/// An error as RFC 9457 problem details (`application/problem+json`), carrying the error's kind:
/// what the admin API answers and what its client reads back.
public struct ProblemDetails: Codable, Sendable, Equatable {
    /// One of `ErrorKind`'s (invalid-input, not-found, conflict, unavailable, internal), or a refusal
    /// of the request itself before the platform is asked: invalid-request, unauthorized, too-large.
    public var kind: String
    public var type: String
    public var title: String
    public var status: Int
    public var detail: String
    /// What it is about: "processor 'p3'", "personality 'web'".
    public var object: String?
    /// Where in the object or the request: "hosts[0].uri", "confirm".
    public var field: String?
    /// For an invalid definition: every problem, with file, line and field.
    public var issues: [ConfigIssue]?

    public init(status: Int, title: String, kind: String, detail: String, object: String? = nil, field: String? = nil,
                issues: [ConfigIssue]? = nil) {
        self.kind = kind
        type = "urn:virtualplatform:problem:\(kind)"
        self.title = title
        self.status = status
        self.detail = detail
        self.object = object
        self.field = field
        self.issues = issues
    }
}
