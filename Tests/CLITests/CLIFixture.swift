import AdminAPI
import AdminClient
import Foundation
import PlatformEngine
import Synchronization
import TestSupport
@testable import vpctl

/// A platform of its own on libvirt's test driver (shared by everything in this process), applied,
/// with its state in a temporary directory and `vpctl serve`'s admin API over it on a Unix socket;
/// and the two ways a command reaches it: `direct` (a platform engine of its own on the same
/// store and driver, as a `vpctl` process makes) and `daemon` (the admin API's client).
struct CLIFixture {
    let name: String
    let directory: String
    let file: String
    let state: String
    let socket: String
    let platform: PlatformEngine
    let direct: DirectAccess
    let daemon: DaemonAccess
    private let server: Task<Void, any Error>
    /// Networks of the test driver live as long as the process: each fixture has its own subnet.
    private static let subnets = Atomic<Int>(0)

    /// `services`: a definition with a service IP, not applied (an apply would program the host's
    /// nftables; what the service commands show needs no apply).
    init(services: Bool = false) async throws {
        // Short: a Unix socket path has to fit in 108 bytes.
        name = "cli" + UUID().uuidString.prefix(6).lowercased()
        directory = try ScratchDirectory.make("vp-cli")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        file = directory + "/platform.yaml"
        state = directory + "/state/state.sqlite"
        socket = directory + "/api.sock"
        let subnet = Self.subnets.add(1, ordering: .relaxed).newValue + 100
        try Self.definition(name, subnet: subnet, services: services).write(toFile: file, atomically: true, encoding: .utf8)
        platform = try PlatformEngine(file: file, statePath: state)
        if !services { try await platform.apply(cause: "test") }
        let api = AdminAPI(platform: platform, failover: try platform.failoverEngine())
        let server = try AdminServer(api: api, listen: .unixSocket(path: socket))
        let (started, running) = AsyncStream.makeStream(of: Void.self)
        self.server = Task { try await server.run { _ in running.yield() } }
        _ = try await collect(started, within: .seconds(60), "the admin API listening", until: { _ in true })
        direct = DirectAccess(platform: try PlatformEngine(file: file, statePath: state), actor: "test")
        daemon = DaemonAccess(client: AdminClient(address: .unixSocket(path: socket)))
    }

    static func definition(_ name: String, subnet: Int, services: Bool) -> String {
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
            subnet: 10.108.\(subnet).0/24
        personalities:
          - name: web
            nics:
              - { vlan: front, ip: 10.108.\(subnet).10 }
          - name: api
            nics:
              - { vlan: front, ip: 10.108.\(subnet).11 }
        standby:
          mode: cold
        """ + (services ? """

        services:
          - { name: www, address: 10.109.\(subnet).1, port: 80, protocol: tcp, members: [web, api] }
        """ : "")
    }

    func p(_ n: Int) -> String { "\(name)-p\(n)" }

    /// Stops the admin API, removes what the platform made on the test driver and the directory.
    func tearDown() async {
        server.cancel()
        _ = try? await server.value
        _ = try? await platform.destroy(cause: "test cleanup")
        try? FileManager.default.removeItem(atPath: directory)
    }
}
