/// The harness could not bring a platform to the state a benchmark or a test needs (not a
/// measured failure: those are in the report).
public struct HarnessError: Error, CustomStringConvertible, Sendable {
    /// What was being waited for or acted on: a processor, a platform, `vpctl serve`.
    public let object: String
    public let cause: String
    public init(_ object: String, _ cause: String) { self.object = object; self.cause = cause }
    public var description: String { "\(object): \(cause)" }
}
