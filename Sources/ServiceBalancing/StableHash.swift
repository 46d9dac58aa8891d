/// Hashes that give the same value in every process, on every run and on every machine.
///
/// Why not `Hasher`: Swift seeds it randomly per process, so two controllers (or one controller
/// after a restart) would build different Maglev tables and move every flow.
///
/// The hash is FNV-1a 64 over the UTF-8 bytes, started from a seed-dependent state and finished
/// with the MurmurHash3 64-bit finaliser. FNV-1a alone mixes its last bytes poorly (names such as
/// `web-1`/`web-2` differ only there); the finaliser spreads every input bit over the whole word.
enum StableHash {
    static let fnvOffsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    static let fnvPrime: UInt64 = 0x0000_0100_0000_01b3

    /// Seed of the hash that gives a backend's offset into the table.
    static let offsetSeed: UInt64 = 0x6d61_676c_6576_2d6f  // "maglev-o"
    /// Seed of the hash that gives a backend's skip; different from `offsetSeed` so that offset
    /// and skip are independent.
    static let skipSeed: UInt64 = 0x6d61_676c_6576_2d73  // "maglev-s"

    /// The seeded hash of `text`.
    static func hash(_ text: String, seed: UInt64) -> UInt64 {
        var state = fnvOffsetBasis ^ finalize(seed)
        for byte in text.utf8 {
            state ^= UInt64(byte)
            state &*= fnvPrime
        }
        return finalize(state)
    }

    /// MurmurHash3's `fmix64`: a bijection that gives every input bit an avalanche effect.
    static func finalize(_ value: UInt64) -> UInt64 {
        var x = value
        x ^= x >> 33
        x &*= 0xff51_afd7_ed55_8ccd
        x ^= x >> 33
        x &*= 0xc4ce_b9fe_1a85_ec53
        x ^= x >> 33
        return x
    }
}
