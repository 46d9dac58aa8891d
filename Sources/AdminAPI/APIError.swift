/// A request the API refuses before asking the platform anything: what was wrong, and with what.
public struct APIError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Malformed: not JSON, a wrong type, an unknown field, a query parameter that is not a number.
        case invalidRequest
        /// Well formed, but not something the platform can do (a definition of another platform).
        case invalidInput
        case notFound
        case conflict
        case unauthorized
    }
    public let kind: Kind
    /// What it is about: "personality 'web'", "field 'confirm'", "Authorization header".
    public let object: String
    public let cause: String

    public init(_ kind: Kind, _ object: String, _ cause: String) {
        self.kind = kind; self.object = object; self.cause = cause
    }

    public var description: String { "\(object): \(cause)" }
}
