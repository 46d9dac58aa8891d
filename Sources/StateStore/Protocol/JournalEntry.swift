import Foundation

/// One line of the append-only journal: every change the controller made, when and why.
public struct JournalEntry: Codable, Sendable, Equatable {
    /// Given by the store when the entry is appended.
    public var id: Int64?
    public var time: Date
    /// Who acted, e.g. "vpctl apply (pid 4242)".
    public var actor: String
    /// Why, e.g. "apply -f demo.yaml".
    public var cause: String
    /// What, e.g. "domain p1 on local".
    public var object: String
    /// create, update, delete, start, stop, bind, allocate, …
    public var action: String
    public var detail: String

    public init(time: Date = Date(), actor: String, cause: String, object: String, action: String, detail: String = "") {
        self.time = time; self.actor = actor; self.cause = cause; self.object = object; self.action = action; self.detail = detail
    }
}
