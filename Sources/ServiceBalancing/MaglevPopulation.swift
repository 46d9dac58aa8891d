import PlatformModel

/// The "Populate" procedure of Maglev hashing (Eisenbud et al., NSDI 2016, §3.4, Pseudocode 1),
/// extended with weights.
///
/// Each backend `i` has a preference list over the slots, `permutation[i][j] = (offset + j × skip) mod M`,
/// with `offset = h1(name) mod M` and `skip = h2(name) mod (M − 1) + 1`. Backends take turns; on its
/// turn a backend claims its most preferred slot that is still empty. The permutation is walked
/// incrementally (add `skip`, subtract `M` on overflow) instead of being stored: nothing is
/// allocated per backend beyond four integers, and nothing at all inside the loop.
///
/// Weights: every round each backend earns `weight / maxWeight` of a turn and takes a turn
/// whenever its earned credit reaches 1 (integer arithmetic: credit is counted in units of
/// `1 / maxWeight`). The heaviest backends take a turn every round, a backend of half their weight
/// every other round, and so on; with equal weights every backend takes a turn every round, which
/// is exactly the classic algorithm. Because a backend's weight never exceeds `maxWeight`, it takes
/// at most one turn per round, and at least one backend takes a turn each round, so filling ends.
///
/// - Parameters:
///   - backends: the backends in table order (the caller sorts them by name and validates them).
///   - size: the table size M, a prime ≥ `backends.count`.
/// - Returns: for each slot, the index into `backends` of its owner; all −1 when there are no backends.
func populateMaglevEntries(backends: [MaglevBackend], size: Int) -> [Int32] {
    let permutations = backends.map { maglevPermutation(name: $0.name, size: size) }
    return populateMaglevEntries(offsets: permutations.map(\.offset), skips: permutations.map(\.skip),
                                 weights: backends.map(\.weight), size: size)
}

/// A backend's preference list over `size` slots, as the paper derives it from the name:
/// `offset = h1(name) mod M`, `skip = h2(name) mod (M − 1) + 1`.
func maglevPermutation(name: String, size: Int) -> (offset: Int, skip: Int) {
    let offset = StableHash.seeded(name, seed: MaglevSeed.offset) % UInt64(size)
    let skip = StableHash.seeded(name, seed: MaglevSeed.skip) % UInt64(size - 1) + 1
    return (Int(offset), Int(skip))
}

/// The fill itself, from each backend's preference list (`offsets[i]`, `skips[i]`) and weight;
/// separate from the name hashing so that the paper's worked example (Table 1), which gives
/// offsets and skips directly, can be checked.
func populateMaglevEntries(offsets: [Int], skips: [Int], weights: [Int], size: Int) -> [Int32] {
    var entries = [Int32](repeating: -1, count: size)
    let count = weights.count
    guard count > 0 else { return entries }
    precondition(offsets.count == count && skips.count == count, "populateMaglevEntries: one offset and skip per backend")
    precondition(size >= count && count <= Int(Int32.max), "populateMaglevEntries: caller must validate")

    let maxWeight = weights.max()!
    var weights = weights
    var positions = offsets
    var skips = skips
    var credits = [Int](repeating: 0, count: count)

    entries.withUnsafeMutableBufferPointer { table in
        weights.withUnsafeMutableBufferPointer { weight in
            positions.withUnsafeMutableBufferPointer { position in
                skips.withUnsafeMutableBufferPointer { skip in
                    credits.withUnsafeMutableBufferPointer { credit in
                        var filled = 0
                        while true {
                            for backend in 0..<count {
                                // Earn this round's credit; written as a comparison against the
                                // missing credit so that large weights cannot overflow.
                                let missing = maxWeight - credit[backend]
                                if weight[backend] < missing {
                                    credit[backend] += weight[backend]
                                    continue
                                }
                                credit[backend] = weight[backend] - missing

                                let step = skip[backend]
                                var slot = position[backend]
                                while table[slot] >= 0 {
                                    slot += step
                                    if slot >= size { slot -= size }
                                }
                                table[slot] = Int32(backend)
                                slot += step
                                if slot >= size { slot -= size }
                                position[backend] = slot

                                filled += 1
                                if filled == size { return }
                            }
                        }
                    }
                }
            }
        }
    }
    return entries
}
