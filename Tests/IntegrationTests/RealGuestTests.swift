import AgentClient
import AgentProtocol
import Foundation
import HostDoctor
import Libvirt
import LibvirtXML
import ProcessorImage
import Testing
import TestSupport
import TrialProcessor

/// Real-guest tests against the libvirt daemon at qemu:///system with the processor image.
/// They need the host set up (scripts/bootstrap-host.sh) and the image built
/// (scripts/build-image.sh); without them they fail, saying which is missing.
/// All real-daemon suites are nested in this one so that they run one at a time: they boot TCG
/// guests, and the machine has two cores.
@Suite(.serialized) enum RealDaemon {}

extension RealDaemon { @Suite struct RealGuestTests {
    static let uri = "qemu:///system"

    /// Unique per run, short enough for 15-character bridge names.
    static func tag() -> String { String(UUID().uuidString.prefix(4)).lowercased() }

    func connect() throws -> Connection {
        try ProcessorImage().validate()
        return try Connection(uri: Self.uri)
    }

    @Test func doctorIsGreenAndPicksABootingDomainType() async throws {
        let report = await Doctor(uri: Self.uri).run()
        for check in report.checks { #expect(check.status == .ok, "\(check.name): \(check.detail)") }
        let chosen = try #require(report.chosenDomainType)
        #expect(report.domainTypes.first { $0.type == chosen }?.boots == true)
    }

    @Test func bootReachHotplugNicAndDiskThenKill() async throws {
        let conn = try connect()
        let t = Self.tag()
        let trial = TrialProcessor(name: "vp-it-\(t)", network: "vp-it-\(t)", bridge: "vpit\(t)", subnetBase: "10.214.0",
                                   mac: "02:56:50:14:00:10")
        let second = NetworkSpec(name: "vp-it-\(t)-b", bridge: "vpitb\(t)", address: "10.215.0.1", prefix: 24,
                                 hosts: [DHCPHost(mac: "02:56:50:15:00:20", ip: "10.215.0.20")])
        let poolName = "vp-it-\(t)"
        let events = try conn.events()
        defer {
            try? trial.remove(conn)
            if let net = try? conn.network(named: second.name) { try? net.destroy(); try? net.undefine() }
            if let pool = try? conn.storagePool(named: poolName) {
                for vol in (try? pool.volumes()) ?? [] { try? vol.delete() }
                try? pool.destroy(); try? pool.delete(); try? pool.undefine()
            }
        }

        // Boot, reach the agent over the network, and get a heartbeat reply.
        let booted = try await trial.boot(conn)
        #expect(booted.report.hostname == trial.name)
        #expect(booted.report.interfaces.contains { $0.mac == trial.mac && $0.addresses == ["10.214.0.10/24"] })
        #expect(booted.bootSeconds < 30)
        #expect(try HeartbeatProbe.ping(trial.processorAddress) != nil)
        let domain = try conn.domain(named: trial.name)
        #expect(try domain.status().state == .running)

        // Hot-plug a NIC on a second network: the agent brings it up and gets its reserved address.
        let net = try conn.defineNetwork(xml: second.render())
        try net.start()
        let nic = InterfaceSpec(network: second.name, mac: "02:56:50:15:00:20")
        try domain.attachDevice(xml: nic.render(), .live)
        let agent = AgentHTTPClient(host: trial.processorAddress)
        let withNic = try await agent.waitForReport(until: .now + .seconds(30)) { report in
            report.interfaces.contains { $0.mac == nic.mac && $0.addresses == ["10.215.0.20/24"] }
        }
        #expect(withNic.interfaces.count == 2)
        #expect(try HeartbeatProbe.ping("10.215.0.20") != nil, "heartbeat answered on the hot-plugged interface")

        // Hot-plug a disk from a storage pool: the agent notices it and a marker can be written.
        let pool = try conn.defineStoragePool(xml: StoragePoolSpec(name: poolName, path: "/var/lib/virtualplatform/\(poolName)").render())
        try pool.build()
        try pool.start()
        let volume = try pool.createVolume(xml: VolumeSpec(name: "data.img", capacityBytes: 64 << 20).render())
        #expect(try volume.capacityBytes() == 64 << 20)
        let disk = DiskSpec(source: .volume(pool: poolName, volume: "data.img"), target: "vdb")
        try domain.attachDevice(xml: disk.render(), .live)
        let withDisk = try await agent.waitForReport(until: .now + .seconds(30)) { $0.disk("vdb") != nil }
        #expect(withDisk.disk("vdb")?.sizeBytes == 64 << 20)
        #expect(withDisk.disk("vdb")?.marker == nil)
        let marked = try await agent.writeMarker(disk: "vdb", text: "personality-\(t)")
        #expect(marked.marker == "personality-\(t)" && marked.serial == "vdb")

        // The live XML shows both hot-plugged devices; QMP passthrough answers.
        let xml = try domain.xml()
        #expect(xml.contains("02:56:50:15:00:20") && xml.contains("data.img"))
        let reply = try domain.qemuMonitorCommand(#"{"execute":"announce-self","arguments":{"initial":50,"max":550,"rounds":3,"step":100}}"#)
        #expect(reply.contains("\"return\""))

        // Kill QEMU like a crash: libvirt reports an unexpected stop.
        let pidText = try String(contentsOfFile: "/run/libvirt/qemu/\(trial.name).pid", encoding: .utf8)
        let pid = try #require(Int32(pidText.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(pid, SIGKILL) == 0)
        let name = trial.name
        let seen = try await collect(events, within: .seconds(30), "libvirt's stop event for \(name)") { event in
            if case .domain(let e) = event { return e.domainName == name && e.kind == .stopped }
            return false
        }
        guard case .domain(let stop)? = seen.last else { Issue.record("no stop event: \(seen)"); return }
        #expect(stop.isUnexpectedStop, "stop event: \(stop)")
        #expect(try domain.status().state == .shutoff)
    }

    @Test func missingImageIsAClearErrorAndCreatesNothing() async throws {
        let conn = try Connection(uri: Self.uri)
        let t = Self.tag()
        let trial = TrialProcessor(name: "vp-it-\(t)", network: "vp-it-\(t)", bridge: "vpit\(t)",
                                   image: ProcessorImage(directory: "/nonexistent/image"))
        await #expect {
            _ = try await trial.boot(conn)
        } throws: { error in
            "\(error)".contains("/nonexistent/image")
        }
        #expect(try conn.domainIfPresent(named: trial.name) == nil)
        #expect(try conn.networkIfPresent(named: trial.network) == nil)
    }

    @Test func failedStartIsRolledBack() async throws {
        // A domain whose kernel is garbage defines fine but QEMU refuses to start it: the trial
        // removes the domain and the network it created, and the error names the domain.
        let conn = try connect()
        let t = Self.tag()
        let dir = "/var/lib/virtualplatform/it-broken-\(t)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let good = ProcessorImage()
        try FileManager.default.copyItem(atPath: good.manifestPath, toPath: "\(dir)/image.json")
        try Data().write(to: URL(fileURLWithPath: "\(dir)/initrd.img"))
        try Data(repeating: 0, count: 4096).write(to: URL(fileURLWithPath: "\(dir)/vmlinuz"))
        let trial = TrialProcessor(name: "vp-it-\(t)", network: "vp-it-\(t)", bridge: "vpit\(t)",
                                   image: ProcessorImage(directory: dir))
        await #expect { _ = try await trial.boot(conn) } throws: { "\($0)".contains("starting domain '\(trial.name)'") }
        #expect(try conn.domainIfPresent(named: trial.name) == nil)
        #expect(try conn.networkIfPresent(named: trial.network) == nil)
    }
}
}
