import Failover
import Foundation
import PlatformEngine
import Reconciler
import ServiceControl
import StateStore

/// A library type as the body of a generated response: encoded as the type itself encodes (the
/// JSON `vpctl -o json` prints). The generated types must be Hashable and ours are not, so two
/// payloads are equal when they encode to the same JSON; the server never compares them.
struct Payload<Value: Codable & Sendable>: Codable, Hashable, Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }

    init(from decoder: any Decoder) throws { value = try Value(from: decoder) }
    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }

    private var json: Data { (try? JSONBody.encode(value, pretty: false)) ?? Data() }
    static func == (a: Self, b: Self) -> Bool { a.json == b.json }
    func hash(into hasher: inout Hasher) { hasher.combine(json) }
}

// The generator's type overrides (openapi-generator-config.yaml) take a plain name.
typealias StatusJSON = Payload<PlatformStatus>
typealias ProcessorJSON = Payload<PlatformStatus.Processor>
typealias PersonalityJSON = Payload<PersonalityStatus>
typealias ServiceJSON = Payload<ServiceReport>
typealias MoveJSON = Payload<FailoverRecord>
typealias ChangeJSON = Payload<PlanEntry>
typealias AppliedPlanJSON = Payload<AppliedPlan>
typealias OutcomeJSON = Payload<Outcome>
typealias EventJSON = Payload<PlatformEvent>
typealias DefinitionChangeJSON = Payload<DefinitionChange>
