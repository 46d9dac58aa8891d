import Foundation

/// A built processor image on disk: a kernel and an initramfs for direct kernel boot, plus a
/// manifest describing how it was built.
///
///     let image = ProcessorImage()               // the default directory
///     try image.validate()                       // clear error if it was never built
///     let manifest = try image.load()
///     // domain XML: <kernel>\(image.kernelPath)</kernel> <initrd>\(image.initrdPath)</initrd>
///     //             <cmdline>\(manifest.kernelCommandLine) vp.name=<processor></cmdline>
public struct ProcessorImage: Sendable, Equatable {
    /// Where `vpctl image build` and scripts/build-image.sh put the image unless told otherwise.
    public static let defaultDirectory = "/var/lib/virtualplatform/images/processor"
    public static let kernelFileName = "vmlinuz"
    public static let initrdFileName = "initrd.img"
    public static let manifestFileName = "image.json"

    public let directory: String

    public init(directory: String = ProcessorImage.defaultDirectory) {
        self.directory = directory
    }

    public var kernelPath: String { directory + "/" + Self.kernelFileName }
    public var initrdPath: String { directory + "/" + Self.initrdFileName }
    public var manifestPath: String { directory + "/" + Self.manifestFileName }

    /// True when the kernel, the initramfs and the manifest all exist.
    public var isPresent: Bool {
        [kernelPath, initrdPath, manifestPath].allSatisfy { FileManager.default.fileExists(atPath: $0) }
    }

    /// Throws `ProcessorImageError.imageNotFound` naming the first missing file.
    public func validate() throws {
        for path in [kernelPath, initrdPath, manifestPath] where !FileManager.default.fileExists(atPath: path) {
            throw ProcessorImageError.imageNotFound(directory: directory, missing: path)
        }
    }

    /// Reads and decodes image.json (after `validate()`).
    public func load() throws -> Manifest {
        try validate()
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: manifestPath))
        } catch {
            throw ProcessorImageError.unreadable(path: manifestPath, cause: error.localizedDescription)
        }
        do {
            return try JSONDecoder().decode(Manifest.self, from: data)
        } catch {
            throw ProcessorImageError.invalidManifest(path: manifestPath, cause: String(describing: error))
        }
    }

    /// Writes image.json atomically.
    public func write(_ manifest: Manifest) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try encoder.encode(manifest).write(to: URL(fileURLWithPath: manifestPath), options: .atomic)
        } catch {
            throw ProcessorImageError.writeFailed(path: manifestPath, cause: error.localizedDescription)
        }
    }
}

extension ProcessorImage {
    /// image.json: what is inside the image and how a guest must boot it.
    public struct Manifest: Codable, Sendable, Equatable {
        /// Format of this manifest.
        public var formatVersion: Int
        /// `uname -r` of the kernel, e.g. "6.1.0-56-amd64".
        public var kernelVersion: String
        /// What `vmlinuz` is: an uncompressed ELF with a PVH entry point (QEMU boots it directly,
        /// no self-decompression) or the distribution's bzImage. Either goes into `<kernel>`.
        public var kernelFormat: KernelImage.Format
        /// Kernel command line every processor needs; append ` vp.name=<name>`.
        public var kernelCommandLine: String
        /// Guest memory (MiB) this image was verified to boot and run with.
        public var recommendedMemoryMiB: Int
        /// SHA-256 (hex) of the agent binary given to the build (before stripping).
        public var agentSHA256: String
        /// Where the agent lives inside the guest.
        public var agentPath: String
        /// ISO 8601, UTC.
        public var buildTime: String
        /// Module names in the order /init loads them.
        public var modules: [String]
        /// Compression of initrd.img.
        public var compression: Compression
        /// Sizes in bytes.
        public var kernelBytes: UInt64
        public var initrdBytes: UInt64
        /// SHA-256 (hex) of initrd.img.
        public var initrdSHA256: String

        public init(formatVersion: Int = 1, kernelVersion: String, kernelFormat: KernelImage.Format,
                    kernelCommandLine: String,
                    recommendedMemoryMiB: Int, agentSHA256: String, agentPath: String, buildTime: String,
                    modules: [String], compression: Compression, kernelBytes: UInt64, initrdBytes: UInt64,
                    initrdSHA256: String) {
            self.formatVersion = formatVersion; self.kernelVersion = kernelVersion; self.kernelFormat = kernelFormat
            self.kernelCommandLine = kernelCommandLine; self.recommendedMemoryMiB = recommendedMemoryMiB
            self.agentSHA256 = agentSHA256; self.agentPath = agentPath; self.buildTime = buildTime
            self.modules = modules; self.compression = compression; self.kernelBytes = kernelBytes
            self.initrdBytes = initrdBytes; self.initrdSHA256 = initrdSHA256
        }
    }

    /// How the initramfs is compressed.
    public enum Compression: String, Codable, Sendable, CaseIterable {
        case none
        case gzip
    }

    /// Kernel command line for a processor called `name` (the agent reports it as its hostname).
    public static func kernelCommandLine(base: String = ProcessorImageBuilder.defaultKernelCommandLine,
                                         processorName: String) -> String {
        "\(base) vp.name=\(processorName)"
    }
}
