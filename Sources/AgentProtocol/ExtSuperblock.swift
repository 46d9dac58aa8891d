/// The fields of an ext2/3/4 superblock that decide how the agent treats a disk: which kind it is,
/// and whether its last writer left it mid-flight. Layout from the kernel's fs/ext4/ext4.h; the
/// superblock starts at byte 1024 of the device, little-endian.
public struct ExtSuperblock: Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case ext2, ext3, ext4 }

    public static let deviceOffset = 1024
    static let magic: UInt16 = 0xEF53

    public var kind: Kind
    /// INCOMPAT_RECOVER: the journal holds transactions that must be replayed before a mount.
    public var needsRecovery: Bool
    /// s_state lacks VALID_FS (not unmounted cleanly) or has ERROR_FS (the kernel saw corruption).
    public var unclean: Bool

    public init(kind: Kind, needsRecovery: Bool, unclean: Bool) {
        self.kind = kind; self.needsRecovery = needsRecovery; self.unclean = unclean
    }

    /// Parses the superblock from the device's first bytes (at least 1024 + 104); nil when the magic
    /// is not there (not an ext filesystem) or the bytes are too short.
    public init?(deviceHead bytes: [UInt8]) {
        let base = Self.deviceOffset
        guard bytes.count >= base + 104 else { return nil }
        func u16(_ offset: Int) -> UInt16 { UInt16(bytes[base + offset]) | UInt16(bytes[base + offset + 1]) << 8 }
        func u32(_ offset: Int) -> UInt32 { UInt32(u16(offset)) | UInt32(u16(offset + 2)) << 16 }
        guard u16(0x38) == Self.magic else { return nil }
        let state = u16(0x3A)
        let compat = u32(0x5C), incompat = u32(0x60), roCompat = u32(0x64)
        let hasJournal = compat & 0x4 != 0
        // What blkid calls ext4: extents, 64bit, flex_bg, or any ro_compat feature ext3 lacks
        // (huge_file, gdt_csum, dir_nlink, extra_isize, metadata_csum).
        let ext4Only = incompat & (0x40 | 0x80 | 0x200) != 0 || roCompat & (0x8 | 0x10 | 0x20 | 0x40 | 0x400) != 0
        kind = ext4Only ? .ext4 : hasJournal ? .ext3 : .ext2
        needsRecovery = incompat & 0x4 != 0
        unclean = state & 0x1 == 0 || state & 0x2 != 0
    }
}
