/// A host operation that failed: what was being done to which object, and why. The kind says
/// whether trying again can help (`unavailable`) or not (`notFound`, `invalid`).
public struct HostError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable { case invalid, notFound = "not-found", unavailable, `internal` }
    public let kind: Kind
    public let description: String
    public init(_ kind: Kind, _ description: String) { self.kind = kind; self.description = description }
}
