/// The one hash whose value is the same in every process, on every run and on every machine:
/// names, MACs, UUIDs and Maglev tables derived from it must not move when a controller restarts.
///
/// Why not `Hasher`: Swift seeds it randomly per process.
public enum StableHash {
    public static let fnvOffsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    public static let fnvPrime: UInt64 = 0x0000_0100_0000_01b3

    /// FNV-1a 64 over the UTF-8 bytes of `text`, from `state` (the FNV offset basis unless given).
    public static func fnv1a(_ text: String, from state: UInt64 = fnvOffsetBasis) -> UInt64 {
        var hash = state
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* fnvPrime }
        return hash
    }

    /// FNV-1a 64 started from a seed-dependent state and finished with `mix`. FNV-1a alone mixes
    /// its last bytes poorly (names such as `web-1`/`web-2` differ only there); the finaliser
    /// spreads every input bit over the whole word.
    public static func seeded(_ text: String, seed: UInt64) -> UInt64 {
        mix(fnv1a(text, from: fnvOffsetBasis ^ mix(seed)))
    }

    /// MurmurHash3's `fmix64`: a bijection that gives every input bit an avalanche effect.
    public static func mix(_ value: UInt64) -> UInt64 {
        var x = value
        x ^= x >> 33
        x &*= 0xff51_afd7_ed55_8ccd
        x ^= x >> 33
        x &*= 0xc4ce_b9fe_1a85_ec53
        x ^= x >> 33
        return x
    }
}
