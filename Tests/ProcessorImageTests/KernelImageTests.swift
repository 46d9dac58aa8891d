import Foundation
import Testing
@testable import ProcessorImage

@Suite struct KernelImageTests {
    /// A fake bzImage: setup header with 2 setup sectors, payload at +16 of length 8.
    static func fakeBzImage(payload: [UInt8]) -> Data {
        var bytes = [UInt8](repeating: 0, count: 3 * 512 + 16 + payload.count + 4)
        bytes[0x1f1] = 2
        bytes.replaceSubrange(0x202..<0x206, with: Array("HdrS".utf8))
        bytes[0x206] = 0x0f; bytes[0x207] = 0x02    // protocol 2.15
        bytes[0x248] = 16                            // payload_offset
        bytes[0x24c] = UInt8(payload.count)          // payload_length
        bytes.replaceSubrange(3 * 512 + 16 ..< 3 * 512 + 16 + payload.count, with: payload)
        return Data(bytes)
    }

    @Test func findsThePayloadFromTheSetupHeader() {
        let payload: [UInt8] = [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00, 1, 2]
        let image = Self.fakeBzImage(payload: payload)
        let range = KernelImage.payloadRange(ofBzImage: image)
        #expect(range == 1552..<1560)
        #expect(range.map { Array(image[$0]) } == payload)
        #expect(KernelImage.decompressor(forPayload: payload) == ["xz", "-dc", "--single-stream"])
    }

    @Test func rejectsWhatIsNotABzImage() {
        #expect(KernelImage.payloadRange(ofBzImage: Data(count: 4096)) == nil)
        #expect(KernelImage.payloadRange(ofBzImage: Data([1, 2, 3])) == nil)
        #expect(KernelImage.decompressor(forPayload: [0, 1, 2, 3, 4, 5]) == nil)
        #expect(KernelImage.decompressor(forPayload: [0x28, 0xB5, 0x2F, 0xFD, 0, 0]) == ["zstd", "-dc"])
        #expect(KernelImage.decompressor(forPayload: [0x1F, 0x8B, 8, 0, 0, 0]) == ["gzip", "-dc"])
    }

    @Test func recognisesThePVHNote() {
        var elf = Data([0x7F, 0x45, 0x4C, 0x46] + [UInt8](repeating: 0, count: 60))
        #expect(!KernelImage.hasPVHEntry(elf: elf))
        elf.append(contentsOf: [4, 0, 0, 0, 8, 0, 0, 0, 18, 0, 0, 0] + Array("Xen".utf8) + [0])
        #expect(KernelImage.hasPVHEntry(elf: elf))
        #expect(!KernelImage.hasPVHEntry(elf: Data([4, 0, 0, 0, 8, 0, 0, 0, 18, 0, 0, 0] + Array("Xen".utf8) + [0])))
    }

    /// With the host's Debian kernel: the extracted ELF has a PVH entry.
    @Test(.enabled(if: HostTools.hasDebianKernel, "needs a Debian kernel in /boot (apt install linux-image-amd64)"))
    func extractsTheHostKernel() throws {
        let version = try #require(ProcessorImageBuilder.kernelVersions().last)
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (ok, reason) = KernelImage.extractPVH(bzImage: "/boot/vmlinuz-\(version)", to: dir + "/vmlinux")
        #expect(ok, "\(reason)")
    }
}
