import AgentClient
import AgentProtocol
import Foundation
import HostDoctor
import Libvirt
import LibvirtXML
import ProcessorImage
import SystemSupport

/// One processor booted from the image on its own isolated network: the quickest way to see the
/// image work on a host (`vpctl image boot`), and the starting point of the real-guest tests.
///
/// Everything it creates carries the trial's metadata, and `remove()` deletes exactly that.
public struct TrialProcessor: Sendable {
    public static let ownerNamespace = "https://virtualplatform.dev/xmlns/trial"

    public var name: String
    public var network: String
    public var bridge: String
    /// The /24 the network uses: host on .1, processor on .10, DHCP pool .100–.199.
    public var subnetBase: String
    /// Locally administered, so it cannot clash with a vendor MAC.
    public var mac: String
    public var image: ProcessorImage

    public init(name: String = "vp-try", network: String = "vp-try", bridge: String = "vptry0",
                subnetBase: String = "10.213.0", mac: String = "02:56:50:00:00:10",
                image: ProcessorImage = ProcessorImage()) {
        self.name = name; self.network = network; self.bridge = bridge; self.subnetBase = subnetBase
        self.mac = mac; self.image = image
    }

    public var hostAddress: String { "\(subnetBase).1" }
    public var processorAddress: String { "\(subnetBase).10" }
    public var serialLog: String { "/var/lib/virtualplatform/trial/\(name).console.log" }

    public struct Booted: Sendable {
        public var report: AgentReport
        public var address: String
        /// From `virDomainCreate` to the agent reporting its DHCP address.
        public var bootSeconds: Double
        public var domainType: String
    }

    public func networkSpec() -> NetworkSpec {
        NetworkSpec(name: network, bridge: bridge, address: hostAddress, prefix: 24,
                    dhcpRange: ("\(subnetBase).100", "\(subnetBase).199"),
                    hosts: [DHCPHost(mac: mac, ip: processorAddress, name: name)])
    }

    public func domainSpec(type: String, manifest: ProcessorImage.Manifest) -> DomainSpec {
        DomainSpec(name: name, type: type, vcpus: 1, memoryMiB: manifest.recommendedMemoryMiB,
                   kernel: image.kernelPath, initrd: image.initrdPath,
                   cmdline: "\(manifest.kernelCommandLine) vp.name=\(name)",
                   interfaces: [InterfaceSpec(network: network, mac: mac)],
                   serialLog: serialLog,
                   metadata: MetadataSpec(namespace: Self.ownerNamespace, prefix: "vptrial",
                                          element: XMLTree("trial", ["network": network])))
    }

    /// Defines and starts the network and the processor, then waits for the agent to report its
    /// address. Fails (and removes what it created) when the agent is not up within `timeout`.
    public func boot(_ connection: Connection, timeout: Duration = .seconds(60),
                     progress: @Sendable (String) -> Void = { _ in }) async throws -> Booted {
        let manifest = try image.load()
        let type = try await DomainTypeProbe.resolve(connection, kernel: image.kernelPath)
        if try connection.domainIfPresent(named: name) != nil {
            throw PlatformError(.conflict, "domain '\(name)'", "already exists on \(connection.uri): remove it first (vpctl image boot --remove)")
        }
        try FileManager.default.createDirectory(atPath: (serialLog as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        do {
            progress("defining network '\(network)' (bridge \(bridge), \(subnetBase).0/24)")
            let net = try connection.networkIfPresent(named: network) ?? connection.defineNetwork(xml: networkSpec().render())
            if try !net.isActive() { try net.start() }

            progress("defining processor '\(name)' (type \(type), \(manifest.recommendedMemoryMiB) MiB)")
            let domain = try connection.defineDomain(xml: domainSpec(type: type, manifest: manifest).render())
            try? FileManager.default.removeItem(atPath: serialLog)
            let start = ContinuousClock.now
            try domain.start()
            progress("booting; waiting for the agent at \(processorAddress)")
            let agent = AgentHTTPClient(host: processorAddress, timeout: 1)
            let address = "\(processorAddress)/24"
            let report = try await agent.waitForReport(until: start + timeout) { report in
                report.interfaces.contains { $0.addresses.contains(address) }
            }
            let seconds = (ContinuousClock.now - start) / .seconds(1)
            return Booted(report: report, address: processorAddress, bootSeconds: seconds, domainType: type)
        } catch {
            try? remove(connection)
            throw error
        }
    }

    /// Destroys and undefines the processor and the network, if they are the trial's own.
    public func remove(_ connection: Connection) throws {
        if let domain = try connection.domainIfPresent(named: name) {
            guard try domain.metadata(uri: Self.ownerNamespace, .config) != nil else {
                throw PlatformError(.conflict, "domain '\(name)'", "not created by vpctl image boot; leaving it alone")
            }
            if try domain.isActive() { try domain.destroy() }
            try domain.undefine()
        }
        if let net = try connection.networkIfPresent(named: network) {
            // libvirt 9.0 has no network metadata: the trial's bridge name marks the network as its own.
            guard try net.bridgeName() == bridge else {
                throw PlatformError(.conflict, "network '\(network)'", "not created by vpctl image boot; leaving it alone")
            }
            if try net.isActive() { try net.destroy() }
            try net.undefine()
        }
    }
}
