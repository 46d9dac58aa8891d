import AgentProtocol
import Foundation

/// Assembles a processor image from the host's Debian kernel, busybox-static, e2fsprogs' mke2fs and
/// e2fsck (with their shared libraries) and the agent binary:
/// vmlinuz (copied), initrd.img (a cpio "newc" archive written here, optionally gzip'ed) and
/// image.json.
public struct ProcessorImageBuilder: Sendable {
    /// What every processor's kernel command line starts with (`vp.name=<name>` is appended).
    /// `rootfstype=ramfs`: the initramfs is unpacked into ramfs, not into a tmpfs capped at half
    /// the RAM the kernel sees while the initrd is still loaded (that cap fails the unpack below
    /// 144 MiB). `quiet`: kernel messages over the emulated UART cost boot time.
    public static let defaultKernelCommandLine = "console=ttyS0 quiet rootfstype=ramfs"
    /// Modules the guest needs: virtio NICs and disks (PCI), SCSI disks, ext2/3/4. ext4 names its
    /// checksum driver only as a soft dependency (crc32c, optional to load); crc32c_generic is
    /// required here: the platform's ext4 has metadata_csum, and crc32c_intel cannot load on a
    /// CPU model without SSE4.2 (qemu64).
    public static let defaultModules = ["virtio_pci", "virtio_net", "virtio_blk", "virtio_scsi", "sd_mod",
                                        "crc32c_generic", "ext4"]
    /// Guest memory (MiB) the image was verified with: boots, serves, hot-plugs, formats and
    /// mounts disks. Measured under TCG: 112 MiB fails (OOM while unpacking the initramfs), 128
    /// works with 34 MiB available after boot; 160 leaves 62 MiB.
    public static let recommendedMemoryMiB = 160
    /// Measured under TCG (5 boots each, PVH kernel): uncompressed ready in 4.6 s median, gzip -1
    /// in 5.2 s; the kernel copies a plain cpio faster than it gunzips one.
    public static let defaultCompression = ProcessorImage.Compression.none
    /// Measured under TCG: the PVH ELF reaches /init ~3.3 s sooner than the bzImage.
    public static let defaultKernelFormat = KernelImage.Format.elfPVH

    public struct Options: Sendable {
        public var outputDirectory: String
        /// The vp-agent binary (release, --static-swift-stdlib).
        public var agentPath: String
        /// nil: the newest version with both /boot/vmlinuz-<v> and /lib/modules/<v>.
        public var kernelVersion: String?
        public var compression: ProcessorImage.Compression
        /// `.elfPVH` falls back to `.bzImage` (with a progress warning) if the kernel cannot do PVH.
        public var kernelFormat: KernelImage.Format
        public var busyboxPath: String
        /// The host's e2fsprogs tools, copied to `FilesystemPreparation.mke2fsPath`/`e2fsckPath`.
        public var mke2fsPath: String
        public var e2fsckPath: String
        public var bootDirectory: String
        public var modulesRoot: String
        public var modules: [String]
        /// Strip the agent's symbol tables (halves its size; needs binutils' strip).
        public var stripAgent: Bool

        public init(outputDirectory: String = ProcessorImage.defaultDirectory, agentPath: String,
                    kernelVersion: String? = nil, compression: ProcessorImage.Compression = defaultCompression,
                    kernelFormat: KernelImage.Format = defaultKernelFormat, busyboxPath: String = "/bin/busybox",
                    mke2fsPath: String = "/sbin/mke2fs", e2fsckPath: String = "/sbin/e2fsck", bootDirectory: String = "/boot",
                    modulesRoot: String = "/lib/modules", modules: [String] = defaultModules,
                    stripAgent: Bool = true) {
            self.outputDirectory = outputDirectory; self.agentPath = agentPath
            self.kernelVersion = kernelVersion; self.compression = compression; self.kernelFormat = kernelFormat
            self.busyboxPath = busyboxPath; self.mke2fsPath = mke2fsPath; self.e2fsckPath = e2fsckPath
            self.bootDirectory = bootDirectory
            self.modulesRoot = modulesRoot; self.modules = modules; self.stripAgent = stripAgent
        }
    }

    public var options: Options

    public init(options: Options) { self.options = options }

    // MARK: - Kernel selection

    /// Versions with both `<boot>/vmlinuz-<v>` and `<modulesRoot>/<v>/modules.dep`, oldest first.
    public static func kernelVersions(bootDirectory: String = "/boot", modulesRoot: String = "/lib/modules") -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: bootDirectory)) ?? []
        return files.compactMap { file -> String? in
            guard file.hasPrefix("vmlinuz-") else { return nil }
            let version = String(file.dropFirst("vmlinuz-".count))
            return FileManager.default.fileExists(atPath: "\(modulesRoot)/\(version)/modules.dep") ? version : nil
        }.sorted { $0.compare($1, options: .numeric) == .orderedAscending }
    }

    /// The requested version if it is complete, else the newest complete one.
    public static func resolveKernelVersion(_ requested: String?, bootDirectory: String = "/boot",
                                            modulesRoot: String = "/lib/modules") throws -> String {
        let versions = kernelVersions(bootDirectory: bootDirectory, modulesRoot: modulesRoot)
        if let requested {
            guard versions.contains(requested) else {
                throw ProcessorImageError.kernelNotFound(version: requested, bootDirectory: bootDirectory,
                                                         modulesRoot: modulesRoot)
            }
            return requested
        }
        guard let newest = versions.last else {
            throw ProcessorImageError.kernelNotFound(version: nil, bootDirectory: bootDirectory, modulesRoot: modulesRoot)
        }
        return newest
    }

    // MARK: - Build

    /// Builds the image into `options.outputDirectory`, replacing any previous one. Files are
    /// written under temporary names and renamed into place, the manifest last.
    @discardableResult
    public func build(progress: (String) -> Void = { _ in }) throws -> ProcessorImage.Manifest {
        let fm = FileManager.default
        guard fm.isExecutableFile(atPath: options.busyboxPath) else {
            throw ProcessorImageError.busyboxNotFound(path: options.busyboxPath)
        }
        for tool in [options.mke2fsPath, options.e2fsckPath] where !fm.isExecutableFile(atPath: tool) {
            throw ProcessorImageError.filesystemToolNotFound(path: tool)
        }
        guard fm.isReadableFile(atPath: options.agentPath) else {
            throw ProcessorImageError.agentNotFound(path: options.agentPath)
        }
        let version = try Self.resolveKernelVersion(options.kernelVersion, bootDirectory: options.bootDirectory,
                                                    modulesRoot: options.modulesRoot)
        let kernelSource = "\(options.bootDirectory)/vmlinuz-\(version)"
        let modulesDirectory = "\(options.modulesRoot)/\(version)"
        progress("kernel \(version): \(kernelSource)")

        let modules = try KernelModules(directory: modulesDirectory).loadOrder(for: options.modules)
        progress("modules (load order): \(modules.map(\.description).joined(separator: " "))")

        let image = ProcessorImage(directory: options.outputDirectory)
        do {
            try fm.createDirectory(atPath: image.directory, withIntermediateDirectories: true)
        } catch {
            throw ProcessorImageError.writeFailed(path: image.directory, cause: error.localizedDescription)
        }
        let work = image.directory + "/.build-\(getpid())"
        try? fm.removeItem(atPath: work)
        do { try fm.createDirectory(atPath: work, withIntermediateDirectories: true) } catch {
            throw ProcessorImageError.writeFailed(path: work, cause: error.localizedDescription)
        }
        defer { try? fm.removeItem(atPath: work) }

        // The agent, stripped, and the shared libraries it needs.
        let agentSHA256 = try HostTools.sha256(of: options.agentPath)
        var agent = options.agentPath
        if options.stripAgent {
            let stripped = work + "/vp-agent"
            do {
                try HostTools.run(["strip", "--strip-all", "-o", stripped, options.agentPath])
                agent = stripped
            } catch {
                progress("warning: not stripping the agent (\(error)); the image will be larger")
            }
        }
        progress("agent: \(options.agentPath) (\(Self.megabytes(Self.size(of: options.agentPath)))"
                 + (agent == options.agentPath ? ")" : ", stripped \(Self.megabytes(Self.size(of: agent))))"))
        let tools = [(options.mke2fsPath, FilesystemPreparation.mke2fsPath), (options.e2fsckPath, FilesystemPreparation.e2fsckPath)]
        var libraries: [String] = []
        for binary in [agent] + tools.map(\.0) {
            for library in try SharedLibraries.of(binary: binary) where !libraries.contains(library) { libraries.append(library) }
        }
        progress("shared libraries (agent, mke2fs, e2fsck): " + (libraries.isEmpty ? "none" : libraries.joined(separator: " ")))

        // The archive.
        var archive = CPIOArchive()
        for directory in ["dev", "proc", "sys", "run", "tmp", "mnt", "etc", "sbin", "usr/share/udhcpc"] {
            try archive.addDirectory(directory)
        }
        try archive.addCharacterDevice("dev/console", major: 5, minor: 1)
        try archive.addCharacterDevice("dev/null", major: 1, minor: 3, permissions: 0o666)
        try archive.addFile("bin/busybox", contentsOf: options.busyboxPath, permissions: 0o755)
        for applet in GuestScripts.busyboxApplets { try archive.addSymlink("bin/\(applet)", target: "busybox") }
        try archive.addFile(GuestScripts.agentPath, contentsOf: agent, permissions: 0o755)
        for (host, guest) in tools { try archive.addFile(String(guest.dropFirst()), contentsOf: host, permissions: 0o755) }
        // e2fsck reads the mount table here to refuse checking a mounted filesystem.
        try archive.addSymlink("etc/mtab", target: "/proc/mounts")
        for library in libraries { try archive.addFile(library, contentsOf: library, permissions: 0o755) }
        for module in modules {
            try archive.addFile("lib/modules/\(version)/\(module.path)",
                                contentsOf: "\(modulesDirectory)/\(module.path)")
        }
        try archive.addFile("init", text: GuestScripts.initScript(kernelVersion: version, modules: modules),
                            permissions: 0o755)
        try archive.addFile(GuestScripts.udhcpcScriptPath, text: GuestScripts.udhcpcScript, permissions: 0o755)
        try archive.addFile("etc/vp-image", text: "kernel=\(version)\nagent-sha256=\(agentSHA256)\n")

        let cpio = work + "/initrd.cpio"
        try archive.write(to: cpio)
        progress("initramfs: \(archive.entries.count) entries, \(Self.megabytes(Self.size(of: cpio))) uncompressed")
        var initrd = cpio
        if options.compression == .gzip {
            initrd = work + "/initrd.cpio.gz"
            try HostTools.run(["gzip", "-n", "-1", "-c"], stdinPath: cpio, stdoutPath: initrd)
            progress("compressed with gzip -n -1: \(Self.megabytes(Self.size(of: initrd)))")
        }

        // Into place: kernel and initrd first, manifest last.
        let kernelCopy = work + "/vmlinuz"
        var kernelFormat = options.kernelFormat
        if kernelFormat == .elfPVH {
            let (ok, reason) = KernelImage.extractPVH(bzImage: kernelSource, to: kernelCopy)
            if ok {
                progress("kernel: uncompressed ELF with PVH entry (\(Self.megabytes(Self.size(of: kernelCopy))))")
            } else {
                progress("warning: booting the bzImage as is (slower under TCG): \(reason)")
                kernelFormat = .bzImage
                try? fm.removeItem(atPath: kernelCopy)
            }
        }
        if kernelFormat == .bzImage {
            do { try fm.copyItem(atPath: kernelSource, toPath: kernelCopy) } catch {
                throw ProcessorImageError.unreadable(path: kernelSource, cause: error.localizedDescription)
            }
        }
        try Self.replace(image.kernelPath, with: kernelCopy)
        try Self.replace(image.initrdPath, with: initrd)
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        let manifest = ProcessorImage.Manifest(
            kernelVersion: version, kernelFormat: kernelFormat, kernelCommandLine: Self.defaultKernelCommandLine,
            recommendedMemoryMiB: Self.recommendedMemoryMiB, agentSHA256: agentSHA256,
            agentPath: GuestScripts.agentPath, buildTime: formatter.string(from: Date()),
            modules: modules.map(\.name), compression: options.compression,
            kernelBytes: Self.size(of: image.kernelPath), initrdBytes: Self.size(of: image.initrdPath),
            initrdSHA256: try HostTools.sha256(of: image.initrdPath))
        try image.write(manifest)
        progress("wrote \(image.kernelPath), \(image.initrdPath) (\(Self.megabytes(manifest.initrdBytes))), \(image.manifestPath)")
        return manifest
    }

    private static func replace(_ destination: String, with source: String) throws {
        if rename(source, destination) != 0 {
            throw ProcessorImageError.writeFailed(path: destination, cause: String(cString: strerror(errno)))
        }
    }

    static func size(of path: String) -> UInt64 {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.uint64Value ?? 0
    }

    static func megabytes(_ bytes: UInt64) -> String {
        String(format: "%.1f MB", Double(bytes) / 1_000_000)
    }
}
