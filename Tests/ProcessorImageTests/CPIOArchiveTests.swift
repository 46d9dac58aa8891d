import Foundation
import Testing
@testable import ProcessorImage

/// A minimal newc reader, to check what the writer produced.
struct NewcEntry: Equatable {
    var name: String
    var inode: UInt32
    var mode: UInt32
    var uid: UInt32
    var gid: UInt32
    var nlink: UInt32
    var mtime: UInt32
    var rdevMajor: UInt32
    var rdevMinor: UInt32
    var data: [UInt8]
}

func readNewc(_ archive: Data) throws -> [NewcEntry] {
    let bytes = [UInt8](archive)
    var offset = 0
    var entries: [NewcEntry] = []
    func pad(_ n: Int) -> Int { (n + 3) & ~3 }
    while true {
        guard offset + 110 <= bytes.count else { throw CPIOParseError("truncated header at \(offset)") }
        guard String(decoding: bytes[offset..<offset + 6], as: UTF8.self) == "070701" else {
            throw CPIOParseError("bad magic at \(offset)")
        }
        func field(_ i: Int) throws -> UInt32 {
            let start = offset + 6 + i * 8
            guard let value = UInt32(String(decoding: bytes[start..<start + 8], as: UTF8.self), radix: 16) else {
                throw CPIOParseError("bad field \(i) at \(offset)")
            }
            return value
        }
        let nameSize = Int(try field(11))
        let fileSize = Int(try field(6))
        let nameStart = offset + 110
        let name = String(decoding: bytes[nameStart..<nameStart + nameSize - 1], as: UTF8.self)
        #expect(bytes[nameStart + nameSize - 1] == 0)
        let dataStart = pad(nameStart + nameSize)
        let data = Array(bytes[dataStart..<dataStart + fileSize])
        if name == "TRAILER!!!" { return entries }
        entries.append(NewcEntry(name: name, inode: try field(0), mode: try field(1), uid: try field(2), gid: try field(3),
                                 nlink: try field(4), mtime: try field(5), rdevMajor: try field(9),
                                 rdevMinor: try field(10), data: data))
        offset = pad(dataStart + fileSize)
    }
}

struct CPIOParseError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

@Suite struct CPIOArchiveTests {
    @Test func headerIsNewcWithUppercaseHexAndPadding() {
        let header = CPIOArchive.header(name: "init", inode: 1, mode: 0o100755, nlink: 1, size: 5, rdev: (0, 0))
        let text = String(decoding: header, as: UTF8.self)
        let fields: [String] = ["00000001", "000081ED", "00000000", "00000000", "00000001", "00000000",
                                "00000005", "00000000", "00000000", "00000000", "00000000", "00000005", "00000000"]
        let expected: String = "070701" + fields.joined() + "init\0"
        #expect(text.hasPrefix(expected))
        #expect(header.count % 4 == 0)
        #expect(header.count == 116)   // 110 + "init\0" = 115, padded to 116
    }

    @Test func entriesAreSortedDeterministicAndOwnedByRoot() throws {
        var a = CPIOArchive()
        try a.addFile("usr/share/b.txt", text: "bee")
        try a.addSymlink("bin/sh", target: "busybox")
        try a.addFile("bin/busybox", data: Data([1, 2, 3]), permissions: 0o755)
        var b = CPIOArchive()
        try b.addFile("bin/busybox", data: Data([1, 2, 3]), permissions: 0o755)
        try b.addSymlink("bin/sh", target: "busybox")
        try b.addFile("usr/share/b.txt", text: "bee")
        let encoded = try a.encoded()
        #expect(encoded == (try b.encoded()))

        let entries = try readNewc(encoded)
        #expect(entries.map(\.name) == ["bin", "bin/busybox", "bin/sh", "usr", "usr/share", "usr/share/b.txt"])
        #expect(entries.map(\.inode) == [1, 2, 3, 4, 5, 6])
        #expect(entries.allSatisfy { $0.uid == 0 && $0.gid == 0 && $0.mtime == 0 })
        #expect(entries[0].mode == 0o040755 && entries[0].nlink == 2)
        #expect(entries[1].mode == 0o100755 && entries[1].data == [1, 2, 3])
        #expect(entries[2].mode == 0o120777 && entries[2].data == Array("busybox".utf8))
        #expect(entries[5].mode == 0o100644 && entries[5].data == Array("bee".utf8))
        #expect(encoded.count % 4 == 0)
    }

    @Test func characterDevicesCarryTheirNumbers() throws {
        var archive = CPIOArchive()
        try archive.addCharacterDevice("dev/console", major: 5, minor: 1)
        let console = try readNewc(try archive.encoded()).first { $0.name == "dev/console" }
        #expect(console?.mode == 0o020600)
        #expect(console?.rdevMajor == 5 && console?.rdevMinor == 1)
        #expect(console?.data.isEmpty == true)
    }

    @Test func pathsAreNormalizedAndValidated() throws {
        var archive = CPIOArchive()
        try archive.addFile("/etc//hostname", text: "x")
        #expect(archive.contains("etc/hostname"))
        #expect(archive.contains("/etc"))
        #expect(throws: ProcessorImageError.self) { try archive.addFile("../escape", text: "x") }
        #expect(throws: ProcessorImageError.self) { try archive.addFile("/", text: "x") }
        #expect(throws: ProcessorImageError.self) { try archive.addFile("etc/hostname/below", text: "x") }
        #expect(throws: ProcessorImageError.self) { try archive.addFile("etc", text: "x") }
    }

    @Test func filesAreReadFromTheirSourceWhenWritten() throws {
        let dir = try temporaryDirectory()
        let source = dir + "/source.bin"
        try Data((0..<1001).map { UInt8($0 % 251) }).write(to: URL(fileURLWithPath: source))
        var archive = CPIOArchive()
        try archive.addFile("lib/x.so", contentsOf: source, permissions: 0o755)
        try archive.addFile("z", text: "after")
        let entries = try readNewc(try archive.encoded())
        #expect(entries.first { $0.name == "lib/x.so" }?.data == (0..<1001).map { UInt8($0 % 251) })
        #expect(entries.last?.data == Array("after".utf8))   // alignment after an odd-sized file

        var missing = CPIOArchive()
        try missing.addFile("x", contentsOf: dir + "/nope")
        #expect(throws: ProcessorImageError.self) { _ = try missing.encoded() }
    }

    @Test(.enabled(if: HostTools.has("/usr/bin/cpio"), "needs cpio (apt install cpio)"))
    func systemCpioExtractsTheArchive() throws {
        let dir = try temporaryDirectory()
        var archive = CPIOArchive()
        try archive.addFile("bin/tool", text: "#!/bin/sh\necho hi\n", permissions: 0o755)
        try archive.addSymlink("bin/alias", target: "tool")
        try archive.addFile("etc/conf", text: "a=1\n")
        try archive.write(to: dir + "/a.cpio")
        let out = dir + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let cpio = Process()
        cpio.executableURL = URL(fileURLWithPath: "/usr/bin/cpio")
        cpio.arguments = ["-id", "--quiet", "-D", out, "-F", dir + "/a.cpio"]
        try cpio.run()
        cpio.waitUntilExit()
        #expect(cpio.terminationStatus == 0)
        #expect(try String(contentsOfFile: out + "/bin/tool", encoding: .utf8) == "#!/bin/sh\necho hi\n")
        #expect(FileManager.default.isExecutableFile(atPath: out + "/bin/tool"))
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: out + "/bin/alias") == "tool")
        #expect(try String(contentsOfFile: out + "/etc/conf", encoding: .utf8) == "a=1\n")
    }
}

func temporaryDirectory() throws -> String {
    let path = FileManager.default.temporaryDirectory.path + "/vp-image-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
