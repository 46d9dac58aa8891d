@testable import Failover
import Foundation
import Hosts
import HostsTesting
import PlatformModel
import PlatformRender
import StateStore
import Synchronization
import SystemSupport
import TestSupport

/// A platform on fake hosts (nothing boots, nothing touches libvirt): host `a` runs p1 (web: two
/// NICs and a disk), p2 (db: one NIC and a disk) and p3 (a hot spare); host `b` has p4, a cold
/// spare, off. Its state store is in memory; every engine made here shares it and the hosts. The
/// personalities' addresses are on loopback: a heartbeat sent to them stays on this machine.
struct FakeHostPlatform {
    let definition: PlatformDefinition
    let store: any PlatformStore
    let fleet = FakeFleet()
    let a: FakeHost
    let b: FakeHost
    var hosts: PlatformHosts { PlatformHosts([a, b]) }
    let devices: [String: Renderer.PersonalityDevices]

    static let yaml = """
    platform: fh
    hosts: [{ name: a, uri: "qemu:///system" }, { name: b, uri: "qemu+ssh://b/system" }]
    processors:
      vcpus: 1
      memoryMiB: 64
      members: [{ name: p1, host: a }, { name: p2, host: a }, { name: p3, host: a }, { name: p4, host: b }]
    vlans: [{ name: front, id: 10, subnet: 10.106.1.0/24 }, { name: back, id: 20, subnet: 10.106.2.0/24 }]
    storage:
      pools:
        - name: data
          host: a
          path: /var/lib/virtualplatform/fh/pool
          volumes: [{ name: web-data, capacity: 64MiB }, { name: db-data, capacity: 64MiB, format: qcow2 }]
    personalities:
      - { name: web, nics: [{ vlan: front }, { vlan: back }], disks: [{ target: vdb, volume: data/web-data }] }
      - { name: db, nics: [{ vlan: back }], disks: [{ target: vdb, volume: data/db-data }] }
    standby: { mode: hot, count: 1 }
    """

    init() throws {
        let dir = URL(fileURLWithPath: try ScratchDirectory.make("vp-fakehost"))
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("fh.yaml").path
        try Self.yaml.write(toFile: file, atomically: true, encoding: .utf8)
        definition = try PlatformLoader.load(path: file).definition
        store = InMemoryPlatformStore()
        let allocations = [
            NICAllocation(key: NICAllocation.key(personality: "web", vlan: "front"), mac: "02:56:50:06:01:10", ip: "127.0.106.10"),
            NICAllocation(key: NICAllocation.key(personality: "web", vlan: "back"), mac: "02:56:50:06:02:10", ip: "127.0.106.20"),
            NICAllocation(key: NICAllocation.key(personality: "db", vlan: "back"), mac: "02:56:50:06:02:11", ip: "127.0.106.21"),
        ]
        try store.remember(bindings: ["web": "p1", "db": "p2"], newAllocations: allocations, actor: "test", cause: "test")
        let byKey = Dictionary(allocations.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        let loaded = definition
        devices = Dictionary(loaded.personalities.map { ($0.name, Renderer.devicesOf($0, in: loaded, allocations: byKey)) },
                             uniquingKeysWith: { first, _ in first })
        let fleet = self.fleet
        a = FakeHost(name: "a", local: true, fleet: fleet)
        b = FakeHost(name: "b", local: false, fleet: fleet)
        a.define("p1", nics: nics("web"), disks: disks("web"), running: true)
        a.define("p2", nics: nics("db"), disks: disks("db"), running: true)
        a.define("p3", running: true)
        b.define("p4")
    }

    func nics(_ personality: String) -> [DomainDevices.NIC] {
        devices[personality]!.interfaces.map { DomainDevices.NIC(mac: $0.mac, network: $0.network) }
    }
    func disks(_ personality: String) -> [DomainDevices.Disk] {
        devices[personality]!.disks.map { DomainDevices.Disk(target: $0.target, source: DomainDevices.Disk.source(of: $0), format: $0.format) }
    }
    /// The personality's devices as the engine plugs them.
    func plugged(_ personality: String) -> [Device] { DeviceExecutor.devices(devices[personality]!) }

    func engine(standbys: [String: StandbyChooser.Readiness] = ["p3": .running, "p4": .off],
                metrics: FailoverMetrics = .none) throws -> FailoverEngine {
        try FailoverEngine(definition: definition, store: store, hosts: hosts, standbys: FakeStandbys(readiness: standbys),
                           answers: FleetAnswers(platform: self), metrics: metrics)
    }

    /// Declares web (or `personality`) failed on its processor, as a detection does.
    func declare(_ personality: String = "web", off source: String = "p1") throws -> Int64 {
        let record = try store.declare(FailoverRecord(personality: personality, source: source, sourceHost: "a", planned: false,
                                                      reason: "test", detectedAt: Date()),
                                       event: PlatformEvent(kind: .detection, processor: source, personality: personality, detail: "test"))
        guard let id = record?.id else { throw PlatformError(.internal, "personality '\(personality)'", "was not declared") }
        return id
    }

    func step(_ id: Int64) throws -> FailoverStep? { try store.failover(id: id)?.step }

    /// Attach calls of `device` to `domain`, in any scope (but those an injected fault made fail).
    func attaches(of device: Device, to domain: String, on host: FakeHost? = nil) -> Int {
        (host ?? a).calls(.attach).filter { !$0.injected && $0.domain == domain && $0.detail.hasPrefix(device.description + " ") }.count
    }
}

/// A personality answers on an address when a running domain of the fleet holds the NIC's MAC:
/// what the agent's heartbeat would say.
struct FleetAnswers: AnswerProbe {
    let macOf: [String: String]
    let hosts: [FakeHost]

    init(platform: FakeHostPlatform) {
        var macOf: [String: String] = [:]
        for devices in platform.devices.values { for nic in devices.nics { macOf[nic.ip] = nic.spec.mac.lowercased() } }
        self.macOf = macOf
        hosts = [platform.a, platform.b]
    }

    func silent(_ addresses: [DestinationEntry.Address], port: UInt16) async -> [DestinationEntry.Address] {
        let live = Set(hosts.flatMap { $0.running.values.flatMap { $0.nics.map(\.mac) } })
        return addresses.filter { macOf[$0.ip].map { !live.contains($0) } ?? true }
    }
}
