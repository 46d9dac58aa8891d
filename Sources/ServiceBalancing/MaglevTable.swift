import PlatformModel

/// A Maglev lookup table: `size` slots, each owned by one backend, built so that every backend
/// owns an almost equal (or weight-proportional) number of slots and a change of the backend set
/// moves few slots (Eisenbud et al., "Maglev: A Fast and Reliable Software Network Load Balancer",
/// NSDI 2016, §3.4).
///
/// A flow is mapped to a backend by hashing its source (for a service IP: the client address and
/// port) to a slot: `table[slot: hash % size]`.
///
/// The table is a pure function of the backend *set*: backends are sorted by name before the table
/// is filled, so the order in which they were defined does not matter (in the paper order matters
/// only through ties between backends that want the same empty slot on the same round; sorting
/// settles those ties the same way everywhere). Slot ownership comes from a hash of each name that
/// is stable across processes, runs and machines, so every controller builds the same table.
///
/// Weights make backends take turns in proportion to `weight / maxWeight` (a backend of weight 2
/// claims a slot every round, one of weight 1 every other round), so shares are proportional to
/// weights; equal weights give the paper's classic algorithm exactly.
///
/// With no backends, the table is valid and every slot is empty (`nil`): a service with nothing
/// behind it drops its flows instead of being an error.
public struct MaglevTable: Sendable, Equatable {
    /// The paper's table size: a prime well above 100 × the backend count for pools up to ~650
    /// backends (use 655373 for larger pools).
    public static let defaultSize = 65537

    /// The backends, sorted by name; `entries` index into this list.
    public let backends: [MaglevBackend]
    /// For each slot, the index into `backends` of the slot's owner, or −1 when the slot has none.
    public let entries: [Int32]

    /// The number of slots (M in the paper).
    public var size: Int { entries.count }

    /// Builds the table for `backends` with `size` slots.
    ///
    /// - Throws: `MaglevError` when `size` is not prime or smaller than the number of backends,
    ///   when a weight is below 1, or when two backends share a name.
    public init(backends: [MaglevBackend], size: Int = defaultSize) throws {
        let sorted = try Self.validated(backends, size: size)
        self.init(sortedBackends: sorted, entries: populateMaglevEntries(backends: sorted, size: size))
    }

    /// A table from already validated, name-sorted backends and their entries.
    init(sortedBackends: [MaglevBackend], entries: [Int32]) {
        self.backends = sortedBackends
        self.entries = entries
    }

    /// The name of the backend that owns `slot`, or nil when the slot has no backend.
    /// `slot` must be in `0..<size`.
    public subscript(slot slot: Int) -> String? {
        let index = entries[slot]
        return index < 0 ? nil : backends[Int(index)].name
    }

    /// How many slots each backend owns. Every backend of the table is present, with 0 when it
    /// owns none (e.g. an unhealthy backend in a `restricted(to:)` table).
    public func shares() -> [String: Int] {
        var counts = [Int](repeating: 0, count: backends.count)
        for index in entries where index >= 0 { counts[Int(index)] += 1 }
        var result: [String: Int] = [:]
        for (backend, count) in zip(backends, counts) { result[backend.name] = count }
        return result
    }

    /// `backends` sorted by name after checking them and `size` against the table's rules.
    static func validated(_ backends: [MaglevBackend], size: Int) throws -> [MaglevBackend] {
        guard isPrime(size) else { throw MaglevError.sizeNotPrime(size: size) }
        guard size >= backends.count else {
            throw MaglevError.sizeSmallerThanBackendCount(size: size, backendCount: backends.count)
        }
        let sorted = backends.sorted { $0.name < $1.name }
        var previous: String?
        for backend in sorted {
            guard backend.weight >= 1 else {
                throw MaglevError.weightBelowOne(backend: backend.name, weight: backend.weight)
            }
            // Sorted, so equal names are neighbours.
            if backend.name == previous { throw MaglevError.duplicateBackendName(backend.name) }
            previous = backend.name
        }
        return sorted
    }
}
