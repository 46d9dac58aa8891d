import PlatformModel

/// The seeds of the two Maglev hashes (`StableHash.seeded`) of a backend's name.
enum MaglevSeed {
    /// Seed of the hash that gives a backend's offset into the table.
    static let offset: UInt64 = 0x6d61_676c_6576_2d6f  // "maglev-o"
    /// Seed of the hash that gives a backend's skip; different from `offset` so that offset
    /// and skip are independent.
    static let skip: UInt64 = 0x6d61_676c_6576_2d73  // "maglev-s"
}
