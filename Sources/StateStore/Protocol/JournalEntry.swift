import Foundation
import PlatformModel

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
    public var action: Action
    public var detail: String

    /// What was done to the object. Stored as its word; a word the store does not know is refused
    /// when read, not taken for another.
    public enum Action: String, StrictWords, Sendable {
        /// libvirt objects and nftables tables, as `apply` and `destroy` change them.
        case create, update, delete, program, rollback
        /// The store's own memory: a personality bound to a processor, a NIC's MAC and address, the platform forgotten.
        case bind, allocate, forget
    }

    public init(time: Date = Date(), actor: String, cause: String, object: String, action: Action, detail: String = "") {
        self.time = time; self.actor = actor; self.cause = cause; self.object = object; self.action = action; self.detail = detail
    }
}
