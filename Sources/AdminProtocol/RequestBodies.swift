/// The bodies of the admin API's POST requests, shared by the server (`AdminAPI`) and its
/// client (`AdminClient`) so that both encode and decode one type.
public struct FailoverRequest: Codable, Sendable {
    public var personality: String
    public var to: String?
    public init(personality: String, to: String? = nil) { self.personality = personality; self.to = to }
}

public struct FenceRequest: Codable, Sendable {
    public var processor: String
    /// Vouch that the processor is off when libvirt cannot confirm it (`vpctl fence --confirm`).
    public var confirm: Bool?
    public init(processor: String, confirm: Bool? = nil) { self.processor = processor; self.confirm = confirm }
}

public struct RepairRequest: Codable, Sendable {
    public var processor: String
    public init(processor: String) { self.processor = processor }
}

/// What `POST /v1/fence` and `POST /v1/repair` answer: the sentence `vpctl` prints.
public struct Outcome: Codable, Sendable, Equatable {
    public var message: String
    public init(message: String) { self.message = message }
}
