/// One backend of a service as the Maglev table sees it: a stable name and a relative weight.
public struct MaglevBackend: Sendable, Hashable {
    /// The backend's identity. Its slots in the table depend only on this name (and the other
    /// backends), so it must be stable, e.g. the personality name, not an address that can move.
    public var name: String
    /// Relative share of the table, at least 1. A backend of weight 2 gets about twice the slots
    /// of a backend of weight 1.
    public var weight: Int

    /// A backend named `name` with the given relative `weight` (default 1).
    public init(name: String, weight: Int = 1) {
        self.name = name
        self.weight = weight
    }
}
