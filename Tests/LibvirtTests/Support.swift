import Foundation
import Libvirt
import LibvirtXML

/// A unique name per test: `test:///default` is one shared in-process driver for all tests.
func uniqueName(_ base: String) -> String { "\(base)-\(UUID().uuidString.prefix(8).lowercased())" }

func testDomainSpec(_ name: String) -> DomainSpec {
    // The test driver boots nothing; the kernel paths only have to be well-formed.
    DomainSpec(name: name, type: "test", memoryMiB: 128, kernel: "/boot/vmlinuz", initrd: "/boot/initrd",
               cmdline: "console=ttyS0")
}

func openTest() throws -> Connection { try Connection(uri: "test:///default") }
