import SystemSupport
/// The seam through which the reconciler changes a host: "perform this action on host H".
/// `LibvirtPerformer` is the real one; tests wrap it to inject faults.
public protocol ActionPerformer: Sendable {
    /// Performs `action` on `host` and returns what undoes it. On failure it throws having
    /// changed nothing (an action of several libvirt calls undoes its own first steps).
    func perform(_ action: Action, on host: String) throws -> Undo
}

/// How to take one performed action back.
public struct Undo: Sendable {
    /// e.g. "undefine network demo-front"; for an irreversible action, what was lost.
    public let what: String
    /// nil when nothing changed (nothing to undo) or the action cannot be undone (`lost`).
    let run: (@Sendable () throws -> Void)?
    /// The action destroyed something that cannot be put back (a deleted volume's data).
    public let lost: Bool

    public static let nothing = Undo(what: "nothing changed", run: nil, lost: false)
    public static func irreversible(_ what: String) -> Undo { Undo(what: what, run: nil, lost: true) }
    public init(_ what: String, _ run: @escaping @Sendable () throws -> Void) { self.what = what; self.run = run; lost = false }
    private init(what: String, run: (@Sendable () throws -> Void)?, lost: Bool) { self.what = what; self.run = run; self.lost = lost }

    /// This undo, then `next` (for an action whose effects are taken back in two steps).
    func then(_ next: @escaping @Sendable () throws -> Void) -> Undo {
        let first = run
        return Undo(what) { try first?(); try next() }
    }
}

/// An apply that failed part-way and was rolled back.
public struct ApplyFailed: KindedError, Sendable {
    /// The change and action that failed, and why.
    public let failed: String
    public let cause: String
    /// How many performed actions were undone.
    public let undone: Int
    /// Undo steps that failed, and what irreversible actions had destroyed before the failure.
    public let notUndone: [String]
    /// The kind of the error that stopped the apply (libvirt unreachable, an object gone, …).
    public var kind: ErrorKind = .internal

    public var description: String {
        let head = "\(failed) failed: \(cause)"
        if notUndone.isEmpty {
            return head + (undone == 0 ? "; nothing had been changed"
                : "; the \(undone) changes made before it were undone, libvirt is as it was")
        }
        return head + "; \(undone) changes were undone, these could not be: " + notUndone.joined(separator: "; ")
    }
}
