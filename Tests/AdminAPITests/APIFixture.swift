import AdminAPI
import Foundation
import PlatformEngine
import Synchronization
import TestSupport

/// A platform of its own on libvirt's test driver (in this process only) with a state store in a
/// temporary directory, applied, and the admin API over it.
struct APIFixture {
    let name: String
    /// Networks of the test driver live as long as the process: each fixture has its own subnet.
    let subnet: Int
    private static let subnets = Atomic<Int>(0)
    let directory: String
    let platform: PlatformEngine
    let api: AdminAPI

    init(metrics: @escaping @Sendable () -> String = { "" }) async throws {
        // Short: a Unix socket path has to fit in 108 bytes.
        name = "api" + UUID().uuidString.prefix(6).lowercased()
        subnet = Self.subnets.add(1, ordering: .relaxed).newValue
        directory = try ScratchDirectory.make("vp-api")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let file = directory + "/platform.yaml"
        try Self.definition(name, subnet: subnet).write(toFile: file, atomically: true, encoding: .utf8)
        platform = try PlatformEngine(file: file, statePath: directory + "/state.sqlite")
        try await platform.apply(cause: "test")
        api = AdminAPI(platform: platform, failover: try platform.failoverEngine(), metrics: metrics)
    }

    var definition: String { Self.definition(name, subnet: subnet) }

    static func definition(_ name: String, subnet: Int) -> String {
        """
        platform: \(name)
        hosts:
          - name: local
            uri: test:///default
        processors:
          vcpus: 1
          memoryMiB: 128
          members:
            - { name: \(name)-p1, host: local }
            - { name: \(name)-p2, host: local }
            - { name: \(name)-p3, host: local }
        vlans:
          - name: front
            id: 100
            subnet: 10.107.\(subnet).0/24
        personalities:
          - name: web
            nics:
              - { vlan: front, ip: 10.107.\(subnet).10 }
        standby:
          mode: hot
        """
    }

    /// Removes what the platform made on the test driver and the temporary directory.
    func tearDown() async {
        _ = try? await platform.destroy(cause: "test cleanup")
        try? FileManager.default.removeItem(atPath: directory)
    }
}
