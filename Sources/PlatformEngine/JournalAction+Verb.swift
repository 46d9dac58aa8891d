import Reconciler
import StateStore

extension JournalEntry.Action {
    /// The journal's word for a change of the plan.
    init(_ verb: Change.Verb) {
        switch verb {
        case .create: self = .create
        case .update: self = .update
        case .delete: self = .delete
        }
    }
}
