import Foundation

/// The guest kernel, and how it is handed to QEMU.
///
/// A Debian kernel is a bzImage: real-mode setup code plus an xz-compressed kernel that
/// decompresses itself at boot. Under TCG that self-decompression takes ~3.5 s, more than the rest
/// of the boot. Kernels built with CONFIG_PVH carry a PVH entry point (ELF note "Xen", type 18),
/// and QEMU boots such an uncompressed ELF `vmlinux` directly with `-kernel` (libvirt `<kernel>`),
/// skipping the decompression. The builder therefore extracts the ELF from the bzImage when it
/// can, and falls back to the bzImage as is.
public enum KernelImage {
    public enum Format: String, Codable, Sendable, CaseIterable {
        /// Uncompressed ELF vmlinux with a PVH entry point.
        case elfPVH = "elf-pvh"
        /// The distribution's compressed bzImage.
        case bzImage = "bzimage"
    }

    /// Where the compressed kernel sits inside a bzImage, from its setup header (boot protocol
    /// ≥ 2.08): `payload_offset`/`payload_length`, relative to the protected-mode code that
    /// starts after (setup_sects + 1) sectors.
    public static func payloadRange(ofBzImage image: Data) -> Range<Int>? {
        let bytes = [UInt8](image.prefix(0x250))
        guard bytes.count >= 0x250, bytes[0x202..<0x206].elementsEqual(Array("HdrS".utf8)) else { return nil }
        func u32(_ at: Int) -> Int { (0..<4).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) } }
        let version = Int(bytes[0x206]) | Int(bytes[0x207]) << 8
        guard version >= 0x0208 else { return nil }
        let setupSectors = bytes[0x1f1] == 0 ? 4 : Int(bytes[0x1f1])
        let start = (setupSectors + 1) * 512 + u32(0x248)
        let end = start + u32(0x24c)
        guard start < end, end <= image.count else { return nil }
        return start..<end
    }

    /// The decompressor for a payload, by its magic number.
    public static func decompressor(forPayload payload: some Collection<UInt8>) -> [String]? {
        let head = Array(payload.prefix(6))
        if head.starts(with: [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]) { return ["xz", "-dc", "--single-stream"] }
        if head.starts(with: [0x28, 0xB5, 0x2F, 0xFD]) { return ["zstd", "-dc"] }
        if head.starts(with: [0x1F, 0x8B]) { return ["gzip", "-dc"] }
        if head.starts(with: [0x02, 0x21, 0x4C, 0x18]) { return ["lz4", "-dc"] }
        return nil
    }

    /// True for an ELF image carrying a PVH entry note (namesz 4, descsz 8, type 18, "Xen").
    public static func hasPVHEntry(elf: Data) -> Bool {
        guard elf.starts(with: [0x7F, 0x45, 0x4C, 0x46]) else { return false }
        var note = Data()
        for value: UInt32 in [4, 8, 18] { withUnsafeBytes(of: value.littleEndian) { note.append(contentsOf: $0) } }
        note.append(contentsOf: Array("Xen".utf8) + [0])
        return elf.range(of: note) != nil
    }

    /// Extracts the uncompressed ELF from `bzImage` into `destination` (work files beside it).
    /// Returns false, with the reason, when this kernel cannot be booted that way.
    static func extractPVH(bzImage path: String, to destination: String) -> (ok: Bool, reason: String) {
        guard let image = FileManager.default.contents(atPath: path) else { return (false, "cannot read \(path)") }
        guard let range = payloadRange(ofBzImage: image) else { return (false, "\(path) is not a bzImage (boot protocol ≥ 2.08)") }
        let payload = image.subdata(in: range)
        guard let tool = decompressor(forPayload: payload) else { return (false, "unknown compression of \(path)") }
        let compressed = destination + ".payload"
        defer { try? FileManager.default.removeItem(atPath: compressed) }
        do {
            try payload.write(to: URL(fileURLWithPath: compressed))
            try HostTools.run(tool, stdinPath: compressed, stdoutPath: destination)
        } catch {
            return (false, "\(error)")
        }
        guard let elf = try? Data(contentsOf: URL(fileURLWithPath: destination), options: .alwaysMapped),
              hasPVHEntry(elf: elf) else {
            return (false, "the kernel has no PVH entry point (CONFIG_PVH)")
        }
        return (true, "")
    }
}
