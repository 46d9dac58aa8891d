import Foundation
import Testing
@testable import ProcessorImage

@Suite struct ProcessorImageTests {
    @Test func pathsLiveInTheDirectory() {
        let image = ProcessorImage()
        #expect(ProcessorImage.defaultDirectory == "/var/lib/virtualplatform/images/processor")
        #expect(image.kernelPath == "/var/lib/virtualplatform/images/processor/vmlinuz")
        #expect(image.initrdPath == "/var/lib/virtualplatform/images/processor/initrd.img")
        #expect(image.manifestPath == "/var/lib/virtualplatform/images/processor/image.json")
        #expect(ProcessorImage.kernelCommandLine(base: "console=ttyS0", processorName: "p1") == "console=ttyS0 vp.name=p1")
    }

    @Test func aMissingImageSaysHowToBuildIt() {
        let image = ProcessorImage(directory: "/nonexistent/image")
        #expect(!image.isPresent)
        #expect {
            try image.load()
        } throws: { error in
            "\(error)" == "processor image not found at /nonexistent/image (missing /nonexistent/image/vmlinuz): run scripts/build-image.sh"
        }
    }

    @Test func manifestRoundTripsAndABrokenOneIsNamed() throws {
        let dir = try temporaryDirectory()
        let image = ProcessorImage(directory: dir)
        for path in [image.kernelPath, image.initrdPath] { _ = FileManager.default.createFile(atPath: path, contents: Data()) }
        let manifest = ProcessorImage.Manifest(
            kernelVersion: "6.1.0-56-amd64", kernelFormat: .elfPVH, kernelCommandLine: "console=ttyS0",
            recommendedMemoryMiB: 160, agentSHA256: String(repeating: "a", count: 64), agentPath: "/bin/vp-agent",
            buildTime: "2026-01-01T00:00:00Z", modules: ["virtio", "ext4"], compression: .none,
            kernelBytes: 1, initrdBytes: 2, initrdSHA256: String(repeating: "b", count: 64))
        try image.write(manifest)
        #expect(image.isPresent)
        #expect(try image.load() == manifest)

        try "{\"kernelVersion\": 1}".write(toFile: image.manifestPath, atomically: true, encoding: .utf8)
        #expect {
            try image.load()
        } throws: { error in
            "\(error)".hasPrefix("invalid image manifest \(image.manifestPath):")
        }
    }

    @Test func newestCompleteKernelIsChosenNumerically() throws {
        let root = try temporaryDirectory()
        let boot = root + "/boot", modules = root + "/modules"
        for version in ["6.1.0-9-amd64", "6.1.0-10-amd64", "6.1.0-11-amd64"] {
            try FileManager.default.createDirectory(atPath: boot, withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: "\(boot)/vmlinuz-\(version)", contents: Data())
            if version != "6.1.0-11-amd64" {   // kernel without modules: incomplete
                try FileManager.default.createDirectory(atPath: "\(modules)/\(version)", withIntermediateDirectories: true)
                _ = FileManager.default.createFile(atPath: "\(modules)/\(version)/modules.dep", contents: Data())
            }
        }
        #expect(ProcessorImageBuilder.kernelVersions(bootDirectory: boot, modulesRoot: modules)
                == ["6.1.0-9-amd64", "6.1.0-10-amd64"])
        #expect(try ProcessorImageBuilder.resolveKernelVersion(nil, bootDirectory: boot, modulesRoot: modules)
                == "6.1.0-10-amd64")
        #expect(try ProcessorImageBuilder.resolveKernelVersion("6.1.0-9-amd64", bootDirectory: boot, modulesRoot: modules)
                == "6.1.0-9-amd64")
        #expect(throws: ProcessorImageError.kernelNotFound(version: "6.1.0-11-amd64", bootDirectory: boot, modulesRoot: modules)) {
            try ProcessorImageBuilder.resolveKernelVersion("6.1.0-11-amd64", bootDirectory: boot, modulesRoot: modules)
        }
        #expect(throws: ProcessorImageError.kernelNotFound(version: nil, bootDirectory: root, modulesRoot: modules)) {
            try ProcessorImageBuilder.resolveKernelVersion(nil, bootDirectory: root, modulesRoot: modules)
        }
    }

    @Test func missingInputsAreClearErrors() throws {
        let dir = try temporaryDirectory()
        let noBusybox = ProcessorImageBuilder(options: .init(outputDirectory: dir, agentPath: "/usr/bin/env",
                                                             busyboxPath: dir + "/busybox"))
        #expect {
            try noBusybox.build()
        } throws: { error in
            "\(error)" == "busybox not found at \(dir)/busybox: apt-get install busybox-static"
        }
        let noAgent = ProcessorImageBuilder(options: .init(outputDirectory: dir, agentPath: dir + "/vp-agent",
                                                           busyboxPath: "/usr/bin/env"))
        #expect {
            try noAgent.build()
        } throws: { error in
            "\(error)".hasPrefix("agent binary not found at \(dir)/vp-agent: build it with")
        }
        let noChecker = ProcessorImageBuilder(options: .init(outputDirectory: dir, agentPath: "/usr/bin/env",
                                                             busyboxPath: "/usr/bin/env", e2fsckPath: dir + "/e2fsck"))
        #expect {
            try noChecker.build()
        } throws: { error in
            "\(error)" == "\(dir)/e2fsck not found (the guest formats disks as ext4 and checks them before mounting): "
                + "apt-get install e2fsprogs"
        }
        #expect(!ProcessorImage(directory: dir).isPresent)
    }

    /// A whole build from stand-ins: a fake kernel (not a bzImage, so it is copied as is), a fake
    /// modules tree, /usr/bin/env as "busybox" and "agent" (a dynamic binary, so ldd has work).
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/sbin/e2fsck"), "needs the host's e2fsprogs"))
    func buildsACompleteImageFromStandIns() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let version = "9.9.9-test"
        let boot = root + "/boot", modules = root + "/modules/\(version)"
        try FileManager.default.createDirectory(atPath: boot, withIntermediateDirectories: true)
        try Data("not really a kernel".utf8).write(to: URL(fileURLWithPath: "\(boot)/vmlinuz-\(version)"))
        try FileManager.default.createDirectory(atPath: modules + "/kernel", withIntermediateDirectories: true)
        try "kernel/a.ko:\nkernel/b.ko: kernel/a.ko\n".write(toFile: modules + "/modules.dep", atomically: true, encoding: .utf8)
        for name in ["a", "b"] { try Data(name.utf8).write(to: URL(fileURLWithPath: "\(modules)/kernel/\(name).ko")) }

        let output = root + "/image"
        var lines: [String] = []
        let manifest = try ProcessorImageBuilder(options: .init(
            outputDirectory: output, agentPath: "/usr/bin/env", compression: .none, busyboxPath: "/usr/bin/env",
            bootDirectory: boot, modulesRoot: root + "/modules", modules: ["b"], stripAgent: false
        )).build { lines.append($0) }

        #expect(manifest.kernelVersion == version)
        #expect(manifest.kernelFormat == .bzImage)   // fell back: not a bzImage
        #expect(lines.contains { $0.hasPrefix("warning: booting the bzImage as is") })
        #expect(manifest.modules == ["a", "b"])
        #expect(manifest.compression == .none)
        #expect(manifest.agentSHA256.count == 64)
        let image = ProcessorImage(directory: output)
        #expect(try image.load() == manifest)
        #expect(FileManager.default.contents(atPath: image.kernelPath) == Data("not really a kernel".utf8))
        #expect(manifest.initrdBytes == ProcessorImageBuilder.size(of: image.initrdPath))

        let entries = try readNewc(try Data(contentsOf: URL(fileURLWithPath: image.initrdPath)))
        let names = Set(entries.map(\.name))
        for expected in ["init", "bin/busybox", "bin/sh", "bin/udhcpc", "bin/vp-agent", "dev/console",
                         "usr/share/udhcpc/default.script", "lib/modules/\(version)/kernel/a.ko",
                         "lib/modules/\(version)/kernel/b.ko", "proc", "sys", "run", "mnt"] {
            #expect(names.contains(expected), "\(expected) missing")
        }
        #expect(entries.contains { $0.name.hasSuffix("libc.so.6") })
        // e2fsprogs' formatter and checker, with the libraries only they need; not busybox's ext2-only mke2fs.
        for tool in ["sbin/mke2fs", "sbin/e2fsck"] {
            #expect(entries.first { $0.name == tool }?.mode == 0o100755, "\(tool) is in the image, executable")
        }
        #expect(entries.contains { $0.name.hasSuffix("/libext2fs.so.2") })
        #expect(entries.contains { $0.name.hasSuffix("/libcom_err.so.2") })
        #expect(!names.contains("bin/mke2fs"))
        #expect(String(decoding: try #require(entries.first { $0.name == "etc/mtab" }).data, as: UTF8.self) == "/proc/mounts")
        let initScript = String(decoding: entries.first { $0.name == "init" }!.data, as: UTF8.self)
        #expect(initScript.contains("insmod /lib/modules/\(version)/kernel/a.ko"))
        #expect(entries.first { $0.name == "init" }!.mode == 0o100755)
        #expect(!FileManager.default.fileExists(atPath: output + "/.build-\(getpid())"))

        // Rebuilding replaces the image in place.
        let again = try ProcessorImageBuilder(options: .init(
            outputDirectory: output, agentPath: "/usr/bin/env", compression: .gzip, busyboxPath: "/usr/bin/env",
            bootDirectory: boot, modulesRoot: root + "/modules", modules: ["b"], stripAgent: false
        )).build()
        #expect(again.compression == .gzip)
        #expect(try image.load().compression == .gzip)
        #expect(FileManager.default.contents(atPath: image.initrdPath)?.starts(with: [0x1F, 0x8B]) == true)
    }
}
