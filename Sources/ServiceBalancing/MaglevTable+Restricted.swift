extension MaglevTable {
    /// The table the data plane should program while only the backends named in `healthy` are up.
    ///
    /// Slots owned by a healthy backend keep it; slots of an unhealthy backend take the owner that
    /// the same slot has in a Maglev table built over the healthy backends alone (same size, same
    /// weights). So a health change moves exactly the flows of the backends that went down, spread
    /// over the survivors as Maglev would spread them, and when those backends come back exactly
    /// those flows return: `restricted(to: allNames) == self`.
    ///
    /// Call it on the table built for the full configured backend set (keep that table and derive
    /// the programmed one from it on every health change); restricting an already restricted table
    /// would keep its earlier fallback choices. Names in `healthy` that are not backends of the
    /// table are ignored. With no healthy backend every slot is empty.
    public func restricted(to healthy: Set<String>) -> MaglevTable {
        let isHealthy = backends.map { healthy.contains($0.name) }
        if !isHealthy.contains(false) { return self }

        // Already validated and sorted: a subset keeps both properties, and size ≥ its count.
        let survivors = backends.indices.filter { isHealthy[$0] }
        let survivorTable = populateMaglevEntries(backends: survivors.map { backends[$0] }, size: size)

        var restrictedEntries = entries
        for slot in restrictedEntries.indices {
            let owner = restrictedEntries[slot]
            if owner >= 0 && isHealthy[Int(owner)] { continue }
            let fallback = survivorTable[slot]
            restrictedEntries[slot] = fallback < 0 ? -1 : Int32(survivors[Int(fallback)])
        }
        return MaglevTable(sortedBackends: backends, entries: restrictedEntries)
    }
}
