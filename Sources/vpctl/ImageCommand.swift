import ArgumentParser
import CommandOutput
import Foundation
import ProcessorImage

struct ImageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Build and inspect the processor image.",
        subcommands: [Build.self, Show.self, ImageBootCommand.self]
    )

    struct Build: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build the processor image (kernel + initramfs with busybox and vp-agent).",
            discussion: """
                Needs the kernel (/boot/vmlinuz-<v> and /lib/modules/<v>, apt: linux-image-amd64), \
                busybox-static and a vp-agent binary built with \
                `swift build -c release --static-swift-stdlib --product vp-agent`. \
                scripts/build-image.sh does all of it.
                """
        )

        @Option(help: "Directory to write vmlinuz, initrd.img and image.json to.")
        var output = ProcessorImage.defaultDirectory

        @Option(help: "The vp-agent binary (release build with --static-swift-stdlib).")
        var agent: String

        @Option(help: "Kernel version (default: the newest with both /boot/vmlinuz-<v> and /lib/modules/<v>).")
        var kernelVersion: String?

        @Option(help: "Initramfs compression: \(ProcessorImage.Compression.allCases.map(\.rawValue).joined(separator: ", ")).")
        var compression: ProcessorImage.Compression = ProcessorImageBuilder.defaultCompression

        @Option(help: "Kernel format: elf-pvh (uncompressed, boots ~3 s faster under TCG; falls back to bzimage if the kernel lacks PVH) or bzimage.")
        var kernelFormat: KernelImage.Format = ProcessorImageBuilder.defaultKernelFormat

        @Option(help: "The busybox-static binary.")
        var busybox = "/bin/busybox"

        @Flag(help: "Keep the agent's symbol tables.")
        var noStrip = false

        func run() async throws {
            let started = Date()
            let builder = ProcessorImageBuilder(options: .init(
                outputDirectory: output, agentPath: agent, kernelVersion: kernelVersion,
                compression: compression, kernelFormat: kernelFormat, busyboxPath: busybox, stripAgent: !noStrip))
            let manifest = try builder.build(progress: { print("· \($0)") })
            let image = ProcessorImage(directory: output)
            print("""
                processor image built in \(String(format: "%.1f", Date().timeIntervalSince(started))) s: \(image.directory)
                  kernel   \(manifest.kernelVersion) \(manifest.kernelFormat.rawValue)  \(image.kernelPath)  (\(mebibytes(manifest.kernelBytes)))
                  initrd   \(manifest.compression.rawValue)  \(image.initrdPath)  (\(mebibytes(manifest.initrdBytes)))
                  boot     memory \(manifest.recommendedMemoryMiB) MiB, cmdline "\(manifest.kernelCommandLine) vp.name=<name>"
                """)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the processor image's manifest.")

        @Option(name: [.customLong("output"), .customLong("image")], help: "Directory of the processor image.")
        var output = ProcessorImage.defaultDirectory

        // Only -o here: --output names the image directory, as in `vpctl image build`.
        @Option(name: .customShort("o"), help: "Output format: table or json.")
        var format: OutputFormat = .table

        func run() async throws {
            let image = ProcessorImage(directory: output)
            let manifest = try image.load()
            switch format {
            case .json:
                try JSONOutput.print(manifest)
            case .table:
                print("""
                    directory       \(image.directory)
                    kernel          \(manifest.kernelVersion), \(manifest.kernelFormat.rawValue) (\(image.kernelPath), \(mebibytes(manifest.kernelBytes)))
                    initrd          \(image.initrdPath) (\(mebibytes(manifest.initrdBytes)), \(manifest.compression.rawValue))
                    cmdline         \(manifest.kernelCommandLine) vp.name=<name>
                    memory          \(manifest.recommendedMemoryMiB) MiB
                    agent           \(manifest.agentPath) (sha256 \(manifest.agentSHA256))
                    modules         \(manifest.modules.joined(separator: " "))
                    built           \(manifest.buildTime)
                    """)
            }
        }
    }
}

extension ProcessorImage.Compression: ExpressibleByArgument {}
extension KernelImage.Format: ExpressibleByArgument {}

private func mebibytes(_ bytes: UInt64) -> String {
    String(format: "%.1f MiB", Double(bytes) / 1_048_576)
}
