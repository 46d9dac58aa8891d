import AgentProtocol
import Foundation
import Testing

/// The agent's rules for a data disk's filesystem: format blank disks as ext4 (journaled), check
/// every disk with e2fsck before mounting it, mount only what the check left consistent. The
/// commands are run here against files on the host: the image carries the host's e2fsprogs.
@Suite struct FilesystemPreparationTests {
    static let hasE2fsprogs = FileManager.default.isExecutableFile(atPath: FilesystemPreparation.mke2fsPath)
        && FileManager.default.isExecutableFile(atPath: FilesystemPreparation.e2fsckPath)

    @Test func checkExitStatusDecidesWhetherToMount() {
        #expect(FilesystemPreparation.result(ofCheckExitStatus: 0) == .clean)
        #expect(FilesystemPreparation.result(ofCheckExitStatus: 1) == .repaired)
        #expect(FilesystemPreparation.result(ofCheckExitStatus: 2) == .repaired)
        for status: Int32 in [4, 5, 8, 12, 16, 32, 128] {
            #expect(FilesystemPreparation.result(ofCheckExitStatus: status) == .failed, "exit \(status)")
        }
        #expect(FilesystemPreparation.mayMount(after: .clean))
        #expect(FilesystemPreparation.mayMount(after: .repaired))
        #expect(!FilesystemPreparation.mayMount(after: .failed))
    }

    @Test func commandsAreE2fsprogsNotBusybox() {
        #expect(FilesystemPreparation.formatCommand(device: "/dev/vdb") == [
            "/sbin/mke2fs", "-q", "-t", "ext4", "-m", "0", "-L", "vp-data",
            "-E", "lazy_itable_init=0,lazy_journal_init=0", "/dev/vdb",
        ])
        #expect(FilesystemPreparation.checkCommand(device: "/dev/vdb") == ["/sbin/e2fsck", "-p", "/dev/vdb"])
    }

    /// A superblock by hand: magic, state, feature words at their offsets in fs/ext4/ext4.h.
    static func head(state: UInt16, compat: UInt32, incompat: UInt32, roCompat: UInt32) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 2048)
        func put16(_ value: UInt16, at offset: Int) {
            bytes[1024 + offset] = UInt8(value & 0xff); bytes[1024 + offset + 1] = UInt8(value >> 8)
        }
        func put32(_ value: UInt32, at offset: Int) {
            put16(UInt16(value & 0xffff), at: offset); put16(UInt16(value >> 16), at: offset + 2)
        }
        put16(0xEF53, at: 0x38); put16(state, at: 0x3A)
        put32(compat, at: 0x5C); put32(incompat, at: 0x60); put32(roCompat, at: 0x64)
        return bytes
    }

    @Test func superblockTellsKindAndAKilledWriter() throws {
        let ext2 = try #require(ExtSuperblock(deviceHead: Self.head(state: 1, compat: 0, incompat: 0x2, roCompat: 0x3)))
        #expect(ext2 == ExtSuperblock(kind: .ext2, needsRecovery: false, unclean: false))
        let ext3 = try #require(ExtSuperblock(deviceHead: Self.head(state: 1, compat: 0x4, incompat: 0x2, roCompat: 0x3)))
        #expect(ext3.kind == .ext3)
        // A mounted ext4 whose writer was killed: the journal needs replaying.
        let killed = try #require(ExtSuperblock(deviceHead: Self.head(state: 1, compat: 0x4, incompat: 0x2 | 0x4 | 0x40,
                                                                      roCompat: 0x400)))
        #expect(killed == ExtSuperblock(kind: .ext4, needsRecovery: true, unclean: false))
        // An ext2 not unmounted cleanly (VALID_FS clear), one with recorded errors.
        #expect(ExtSuperblock(deviceHead: Self.head(state: 0, compat: 0, incompat: 0x2, roCompat: 0))?.unclean == true)
        #expect(ExtSuperblock(deviceHead: Self.head(state: 3, compat: 0, incompat: 0x2, roCompat: 0))?.unclean == true)
        // No magic, or too short: not ext.
        #expect(ExtSuperblock(deviceHead: [UInt8](repeating: 0, count: 2048)) == nil)
        #expect(ExtSuperblock(deviceHead: Array(Self.head(state: 1, compat: 0, incompat: 0, roCompat: 0).prefix(1100))) == nil)
    }

    /// The image's own commands on a file: the format gives a journaled ext4 that the check finds clean;
    /// an ext2 (as older images formatted) is recognised as such.
    @Test(.enabled(if: hasE2fsprogs, "needs the host's e2fsprogs (apt-get install e2fsprogs)"))
    func formattedDiskIsJournaledExt4AndChecksClean() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let disk = dir + "/disk.img"
        #expect(FileManager.default.createFile(atPath: disk, contents: nil))
        try FileHandle(forWritingAtPath: disk).map { try $0.truncate(atOffset: 32 << 20); try $0.close() }
        #expect(try Self.run(FilesystemPreparation.formatCommand(device: disk)) == 0)
        let head = [UInt8](try #require(FileManager.default.contents(atPath: disk)).prefix(4096))
        #expect(ExtSuperblock(deviceHead: head) == ExtSuperblock(kind: .ext4, needsRecovery: false, unclean: false))
        #expect(try Self.run(FilesystemPreparation.checkCommand(device: disk)) == 0)

        let old = dir + "/ext2.img"
        #expect(FileManager.default.createFile(atPath: old, contents: nil))
        try FileHandle(forWritingAtPath: old).map { try $0.truncate(atOffset: 8 << 20); try $0.close() }
        #expect(try Self.run([FilesystemPreparation.mke2fsPath, "-q", "-t", "ext2", old]) == 0)
        let oldHead = [UInt8](try #require(FileManager.default.contents(atPath: old)).prefix(4096))
        #expect(ExtSuperblock(deviceHead: oldHead)?.kind == .ext2)
    }

    @discardableResult
    static func run(_ command: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
