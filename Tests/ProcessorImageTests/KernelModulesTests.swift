import Foundation
import Testing
@testable import ProcessorImage

@Suite struct KernelModulesTests {
    // Shaped like Debian 6.1's modules.dep (dependencies listed nearest-first, as depmod does).
    static let dep = """
        kernel/drivers/virtio/virtio.ko:
        kernel/drivers/virtio/virtio_ring.ko: kernel/drivers/virtio/virtio.ko
        kernel/drivers/virtio/virtio_pci_modern_dev.ko:
        kernel/drivers/virtio/virtio_pci_legacy_dev.ko:
        kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_legacy_dev.ko kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko
        kernel/net/core/failover.ko:
        kernel/drivers/net/net_failover.ko: kernel/net/core/failover.ko
        kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko kernel/drivers/virtio/virtio_ring.ko kernel/drivers/virtio/virtio.ko
        kernel/lib/crc16.ko:
        kernel/fs/mbcache.ko:
        kernel/fs/jbd2/jbd2.ko:
        kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko
        kernel/crypto/crc32c_generic.ko:
        kernel/arch/x86/crypto/crc32c-intel.ko:
        kernel/fs/xfs/xfs.ko.xz:

        """
    static let softdep = """
        # Soft dependencies extracted from modules themselves.
        softdep ext4 pre: crypto-crc32c
        softdep jbd2 pre: crypto-crc32c

        """
    static let alias = """
        alias crypto-crc32c crc32c_intel
        alias crypto-crc32c crc32c_generic
        alias pci:v00001AF4d*sv*sd*bc*sc*i* virtio_pci

        """
    static let modules = KernelModules(modulesDep: dep, softdep: softdep, alias: alias,
                                       builtin: "kernel/drivers/block/loop.ko\n")

    /// Every module comes after everything modules.dep says it needs.
    func assertDependencyOrder(_ order: [KernelModules.Module], dep: String) {
        let position = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1.path, $0) })
        for line in dep.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard let mine = position[String(parts[0])] else { continue }
            for need in parts.dropFirst().first?.split(separator: " ") ?? [] {
                let theirs = position[String(need)]
                #expect(theirs != nil && theirs! < mine, "\(need) must come before \(parts[0])")
            }
        }
    }

    @Test func dependenciesComeFirstAndOnlyOnce() throws {
        let order = try Self.modules.loadOrder(for: ["virtio_pci", "virtio_net"])
        #expect(order.map(\.name) == ["virtio_pci_legacy_dev", "virtio_pci_modern_dev", "virtio", "virtio_ring",
                                      "virtio_pci", "failover", "net_failover", "virtio_net"])
        #expect(order.allSatisfy { !$0.optional })
        assertDependencyOrder(order, dep: Self.dep)
    }

    @Test func softDependenciesResolveThroughAliasesAndAreOptional() throws {
        let order = try Self.modules.loadOrder(for: ["ext4"])
        #expect(order.map(\.description) == ["crc32c_intel?", "crc32c_generic?", "crc16", "mbcache", "jbd2", "ext4"])
        assertDependencyOrder(order, dep: Self.dep)
    }

    @Test func aModuleWantedOutrightIsNotOptional() throws {
        let order = try Self.modules.loadOrder(for: ["ext4", "crc32c_generic"])
        #expect(order.first { $0.name == "crc32c_generic" }?.optional == false)
        #expect(order.first { $0.name == "crc32c_intel" }?.optional == true)
    }

    @Test func namesWithDashesAndUnderscoresAreTheSame() throws {
        #expect(KernelModules.name(ofPath: "kernel/arch/x86/crypto/crc32c-intel.ko") == "crc32c_intel")
        #expect(KernelModules.name(ofPath: "kernel/fs/xfs/xfs.ko.xz") == "xfs")
        #expect(try Self.modules.loadOrder(for: ["crc32c-intel"]).map(\.name) == ["crc32c_intel"])
    }

    @Test func builtinModulesAreSkippedAndUnknownOnesAreErrors() throws {
        #expect(try Self.modules.loadOrder(for: ["loop"]).isEmpty)
        #expect(throws: ProcessorImageError.moduleNotFound(name: "nosuch", modulesDep: "modules.dep")) {
            try Self.modules.loadOrder(for: ["nosuch"])
        }
        #expect(throws: ProcessorImageError.compressedModule(path: "kernel/fs/xfs/xfs.ko.xz")) {
            try Self.modules.loadOrder(for: ["xfs"])
        }
    }

    /// On a machine with a Debian kernel, the real modules.dep gives a complete order.
    @Test(.enabled(if: HostTools.hasDebianKernel, "needs a Debian kernel and its modules (apt install linux-image-amd64)"))
    func hostKernelModulesResolve() throws {
        let version = try #require(ProcessorImageBuilder.kernelVersions().last)
        let directory = "/lib/modules/\(version)"
        let order = try KernelModules(directory: directory).loadOrder(for: ProcessorImageBuilder.defaultModules)
        let names = order.map(\.name)
        for wanted in ProcessorImageBuilder.defaultModules { #expect(names.contains(wanted)) }
        #expect(names.firstIndex(of: "virtio_ring")! < names.firstIndex(of: "virtio_net")!)
        #expect(names.firstIndex(of: "jbd2")! < names.firstIndex(of: "ext4")!)
        // ext4's metadata checksums need a crc32c driver that cannot fail to load (qemu64 has no SSE4.2).
        let crc32c = try #require(order.first { $0.name == "crc32c_generic" })
        #expect(!crc32c.optional, "crc32c_generic is loaded as required")
        #expect(names.firstIndex(of: "crc32c_generic")! < names.firstIndex(of: "ext4")!)
        assertDependencyOrder(order, dep: try String(contentsOfFile: directory + "/modules.dep", encoding: .utf8))
        for module in order { #expect(FileManager.default.fileExists(atPath: "\(directory)/\(module.path)")) }
    }
}
