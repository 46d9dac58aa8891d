import Foundation
import Libvirt
import PlatformEngine
import PlatformModel
import Reconciler
import Testing

/// What plan catches from the host (libvirt's test driver: 16 CPUs, 3 GiB, interface eth1 with
/// 192.168.0.5/24, network "default" on virbr0 with 192.168.122.0/24, pools of 100 GiB).
extension ReconcileTests {
    func expectRefusedByPlan(_ text: String, _ message: String) async throws {
        let (engine, _) = try engine(text)
        await #expect { try await engine.plan() } throws: { "\($0)".contains(message) }
        await #expect { try await engine.apply(cause: "test") } throws: { "\($0)".contains(message) }
        #expect(try LibvirtSnapshot(engine.connections["local"]!, prefix: u).isEmpty, "nothing was created")
    }

    @Test func aBridgeThatIsAHostInterfaceIsRefused() async throws {
        try await expectRefusedByPlan(unique().replacingOccurrences(of: "    id: 100\n", with: "    id: 100\n    bridge: eth1\n"),
                                      "network \(u)-front on local: bridge eth1 is already an interface of the host")
    }

    @Test func aBridgeOfAnotherLibvirtNetworkIsRefused() async throws {
        try await expectRefusedByPlan(unique().replacingOccurrences(of: "    id: 100\n", with: "    id: 100\n    bridge: virbr0\n"),
                                      "network \(u)-front on local: bridge virbr0 is the bridge of libvirt network 'default'")
    }

    @Test func aSubnetOnAHostInterfaceIsRefused() async throws {
        try await expectRefusedByPlan(unique(validYAML.replacingOccurrences(of: "10.40.1.", with: "192.168.0.")),
                                      "network \(u)-front on local: subnet 192.168.0.1/24 overlaps 192.168.0.5/24 on host interface eth1")
    }

    @Test func aSubnetOfAnotherLibvirtNetworkIsRefused() async throws {
        try await expectRefusedByPlan(unique(validYAML.replacingOccurrences(of: "10.40.1.", with: "192.168.122.")),
                                      "subnet 192.168.122.1/24 overlaps libvirt network 'default' (192.168.122.1/24)")
    }

    @Test func processorsBiggerThanTheHostAreRefused() async throws {
        try await expectRefusedByPlan(unique().replacingOccurrences(of: "memoryMiB: 128", with: "memoryMiB: 65536"),
                                      "processor \(u)-p1 on local: memoryMiB 65536 is more than the host has (3072 MiB)")
        try await expectRefusedByPlan(unique().replacingOccurrences(of: "vcpus: 1", with: "vcpus: 32"),
                                      "processor \(u)-p1 on local: vcpus 32 is more than the host has (16)")
    }

    /// The issue's value, and one whose KiB overflow 64 bits: refused before anything is created
    /// (by validation, where it has a bound, or by plan), never a crash or a half-done apply.
    @Test(arguments: ["1000000000000", "9000000000000000000"])
    func absurdMemoryIsRefusedWithNothingCreated(_ memory: String) async throws {
        let text = unique().replacingOccurrences(of: "memoryMiB: 128", with: "memoryMiB: \(memory)")
        do {
            let (engine, _) = try engine(text)
            await #expect { try await engine.apply(cause: "test") } throws: {
                "\($0)".contains("processor \(self.u)-p1 on local: memoryMiB \(memory) is more than the host has (3072 MiB)")
            }
        } catch let errors as ConfigErrors {
            #expect(errors.issues.contains { $0.field == "processors.memoryMiB" })
        }
        #expect(try LibvirtSnapshot(try Connection(uri: "test:///default"), prefix: u).isEmpty, "nothing was created")
    }

    @Test func volumesBeyondTheFreeSpaceAreRefused() async throws {
        try await expectRefusedByPlan(unique().replacingOccurrences(of: "{ name: v1, capacity: 64MiB }", with: "{ name: v1, capacity: 200GiB }"),
                                      "storage pool \(u)-data on local: volumes v1, v2 need 214815473664 bytes, its directory has 107374182400 free")
    }
}
