/// One change of a plan as `vpctl plan -o json` and the admin API show it.
public struct PlanEntry: Codable, Sendable, Equatable {
    public var verb: String, host: String, object: String, reasons: [String]
    public init(_ c: Change) { verb = c.verb.rawValue; host = c.host; object = c.object; reasons = c.reasons }
}
