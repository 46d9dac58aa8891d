import Hosts
import LibvirtXML
import PlatformRender
import SystemSupport

/// The one writer of a personality's devices: what "processor X carrying personality P" is in
/// libvirt (P's NICs with its MACs on its VLANs' networks, its disks with their formats, and the
/// owner metadata naming P), applied through `Host`. Failover decides (binding, fenced, failed);
/// this applies. Every operation is safe to repeat: it reads what the domain has first and
/// changes only the difference, so a move resumed after a kill attaches nothing twice.
public struct DeviceExecutor: Sendable {
    public let platform: String
    public init(platform: String) { self.platform = platform }

    /// The owner element a processor of this platform carries (`personality` nil: a spare).
    public func owner(_ personality: String?) -> MetadataSpec {
        MetadataSpec(namespace: Renderer.namespace, prefix: Renderer.metadataPrefix,
                     element: XMLTree("processor", ["platform": platform]).attribute("personality", personality))
    }

    public enum Attached: Sendable, Equatable {
        case hotPlugged
        /// It was off: given the devices in its definition and started.
        case started

        public var description: String { self == .hotPlugged ? "hot-plugged" : "cold standby started" }
    }

    /// Gives `domain` the personality's NICs and disks: hot-plugged (and kept in its definition)
    /// when it runs, in its definition and then started when it does not.
    public func attach(_ devices: Renderer.PersonalityDevices, personality: String, to domain: String,
                       on host: any Hosts.Host) async throws -> Attached {
        let running = try await host.state(of: domain)?.isActive ?? false
        let live = running ? try await host.devices(of: domain, .live) : DomainDevices()
        let config = try await host.devices(of: domain, .config)
        for device in Self.devices(devices) {
            let inConfig = config.has(device)
            if running && !live.has(device) { try await host.attach(device, to: domain, inConfig ? [.live] : [.live, .config]) }
            else if !inConfig { try await host.attach(device, to: domain, [.config]) }
        }
        try await host.setMetadata(owner(personality), of: domain, live: running)
        guard running else {
            try await host.start(domain)
            return .started
        }
        return .hotPlugged
    }

    /// Removes the personality's NICs and disks from the definition of `domain`, which is off
    /// (fenced), so it can never start with them, and marks it a spare. Nothing when it is not defined.
    public func detach(_ devices: Renderer.PersonalityDevices, from domain: String, on host: any Hosts.Host) async throws {
        guard try await host.state(of: domain) != nil else { return }
        // libvirt may still be cleaning up the killed QEMU: wait for it to say so itself.
        let deadline = ContinuousClock.now + .seconds(10)
        while try await host.state(of: domain)?.isActive == true {
            guard ContinuousClock.now < deadline else { throw PlatformError(.conflict, "domain \(domain)", "still runs according to libvirt; it is not fenced") }
            try await Task.sleep(for: .milliseconds(50))
        }
        let config = try await host.devices(of: domain, .config)
        for device in Self.devices(devices) where config.has(device) {
            try await host.detach(device, from: domain, [.config])
        }
        try await host.setMetadata(owner(nil), of: domain, live: false)
    }

    /// Takes every NIC and disk out of the definition of `domain` (off): a repaired processor
    /// comes back clean, whatever personality it had.
    public func clean(_ domain: String, on host: any Hosts.Host) async throws {
        let config = try await host.devices(of: domain, .config)
        for nic in config.nics { try await host.detach(.nic(InterfaceSpec(network: nic.network, mac: nic.mac)), from: domain, [.config]) }
        for disk in config.disks {
            let parts = disk.source.split(separator: "/", maxSplits: 1).map(String.init)
            let source: DiskSpec.Source = parts.count == 2 && !disk.source.hasPrefix("/")
                ? .volume(pool: parts[0], volume: parts[1]) : .file(path: disk.source)
            try await host.detach(.disk(DiskSpec(source: source, target: disk.target, format: disk.format)), from: domain, [.config])
        }
        try await host.setMetadata(owner(nil), of: domain, live: false)
    }

    /// Unplugs the personality's NICs from the running `domain` and plugs them again (a NIC
    /// hot-plugged into a guest not ready for it can be lost). Returns what happened.
    public func replug(_ devices: Renderer.PersonalityDevices, on domain: String, host: any Hosts.Host) async -> String {
        do {
            let macs = Set(devices.interfaces.map { $0.mac.lowercased() })
            for nic in devices.interfaces { try await host.detach(.nic(nic), from: domain, [.live]) }
            // The guest must release them (ACPI): give it a bound, then plug back what left.
            let deadline = ContinuousClock.now + .seconds(5)
            var live = try await host.devices(of: domain, .live).nics.filter { macs.contains($0.mac) }
            while !live.isEmpty, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
                live = try await host.devices(of: domain, .live).nics.filter { macs.contains($0.mac) }
            }
            for nic in devices.interfaces where !live.contains(where: { $0.mac == nic.mac.lowercased() }) {
                try await host.attach(.nic(nic), to: domain, [.live])
            }
            let kept = live.map(\.mac).sorted().joined(separator: ", ")
            return live.isEmpty ? "its NICs were re-plugged" : "it did not release \(kept) for a re-plug"
        } catch {
            return "re-plugging its NICs failed: \(error)"
        }
    }

    /// NICs first, then disks: the order libvirt is given them.
    static func devices(_ devices: Renderer.PersonalityDevices) -> [Device] {
        devices.interfaces.map(Device.nic) + devices.disks.map(Device.disk)
    }
}
