import Dispatch
import Foundation
import Libvirt
import LibvirtXML
import Synchronization
import SystemSupport

/// A libvirt host through its connection (reopened when it closed: a restarted libvirtd, a host
/// back from a network cut; remote connections get keepalive so a dead link is noticed), and on
/// this machine its QEMU processes through /proc and libvirt's run directory.
///
/// Every libvirt call runs on this host's own dispatch queue, never on Swift's cooperative
/// pool: a libvirt call blocks its thread for as long as the daemon takes (a domain being
/// cleaned up, a remote host behind a cut link), and the cooperative pool has one thread per
/// core. Blocked there, it starved every other task of the process: `vpctl serve` in a full
/// parallel test run took over 10 s to start.
public final class LibvirtHost: Host {
    public let name: String
    public let uri: String
    public let isLocal: Bool
    /// This machine's QEMU processes (fencing, the device guard, a target's death).
    public let processes: QEMUProcess
    private let open: Mutex<Connection?>
    private let queue: DispatchQueue

    /// `local` defaults to what the URI says (this machine's QEMU driver); a test may declare a
    /// test-driver host local to fence it through fake processes.
    public init(name: String, uri: String, connection: Connection? = nil, processes: QEMUProcess = .system, local: Bool? = nil) {
        self.name = name; self.uri = uri; self.processes = processes
        isLocal = local ?? LibvirtURI.isThisMachinesQEMU(uri)
        open = Mutex(connection)
        queue = DispatchQueue(label: "vp.host.\(name)", attributes: .concurrent)
    }

    /// The host's connection, reopened if it closed. Blocks: call it from `blocking`.
    public func connection() throws -> Connection {
        try open.withLock { open in
            if let c = open, c.isOpen { return c }
            let c = try Connection(uri: uri)
            if LibvirtURI.isAnotherMachine(uri) { try? c.setKeepAlive(interval: 2, count: 3) }
            open = c
            return c
        }
    }

    /// Runs a blocking libvirt call on this host's queue.
    public func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    private func domain(_ name: String) throws -> Domain {
        guard let domain = try connection().domainIfPresent(named: name) else {
            throw PlatformError(.notFound, nil, "domain '\(name)' is not defined on host \(self.name)")
        }
        return domain
    }

    private static func modification(_ scopes: Set<DeviceScope>) -> DeviceModification {
        var m: DeviceModification = []
        if scopes.contains(.live) { m.insert(.live) }
        if scopes.contains(.config) { m.insert(.config) }
        return m
    }

    public func state(of domain: String) async throws -> DomainStatus? {
        try await blocking { try self.connection().domainIfPresent(named: domain)?.status() }
    }

    public func devices(of domain: String, _ scope: DeviceScope) async throws -> DomainDevices {
        try await blocking { try DomainDevices(xml: try self.domain(domain).xml(inactive: scope == .config)) }
    }

    public func attach(_ device: Device, to domain: String, _ scopes: Set<DeviceScope>) async throws {
        try await blocking { try self.domain(domain).attachDevice(xml: device.xml, Self.modification(scopes)) }
    }

    public func detach(_ device: Device, from domain: String, _ scopes: Set<DeviceScope>) async throws {
        try await blocking { try self.domain(domain).detachDevice(xml: device.xml, Self.modification(scopes)) }
    }

    public func start(_ domain: String) async throws { try await blocking { try self.domain(domain).start() } }
    public func destroy(_ domain: String) async throws { try await blocking { try self.domain(domain).destroy() } }

    public func setMetadata(_ metadata: MetadataSpec, of domain: String, live: Bool) async throws {
        try await blocking {
            try self.domain(domain).setMetadata(xml: metadata.element.render(), key: metadata.prefix, uri: metadata.namespace,
                                                live ? [.live, .config] : .config)
        }
    }

    public func announce(_ domain: String) async throws {
        _ = try await blocking {
            try self.domain(domain).qemuMonitorCommand(#"{"execute":"announce-self","arguments":{"initial":50,"max":550,"rounds":3,"step":100}}"#)
        }
    }

    public func volumePath(pool: String, volume: String) async -> String? {
        try? await blocking { try self.connection().storagePool(named: pool).volume(named: volume).path() }
    }

    public func process(of domain: String) -> QEMUProcess.State { isLocal ? processes.state(of: domain) : .notRunning }

    public func fence(_ domain: String, planned: Bool) async -> FenceOutcome {
        await Fencer.fence(domain, on: self, planned: planned)
    }

    public func events() async throws -> AsyncStream<ConnectionEvent> {
        try await blocking { try self.connection().events() }
    }

    public func runningDomains() async throws -> [String: DomainDevices] {
        if isLocal { return try await blocking { try self.runningFromStatusFiles() } }
        return try await blocking {
            var running: [String: DomainDevices] = [:]
            for domain in try self.connection().domains() {
                do {
                    guard try domain.isActive() else { continue }
                    running[domain.name] = try DomainDevices(xml: try domain.xml())
                } catch let e as LibvirtError where e.isNotFound {
                    continue // undefined while we listed: holds nothing
                } catch {
                    throw PlatformError(.unavailable, nil, "cannot read what domain \(domain.name) on \(self.name) holds (\(error))")
                }
            }
            return running
        }
    }

    /// The live definition of every running domain, from the status file libvirt keeps for each
    /// running QEMU domain: while libvirt cleans up a killed domain (~1.5 s here) listing domains
    /// through the API waits for it, and a failover must not.
    private func runningFromStatusFiles() throws -> [String: DomainDevices] {
        let dir = QEMUProcess.runDirectory
        let names = try processes.host.list(dir).filter { $0.hasSuffix(".pid") && $0 != "driver.pid" }.map { String($0.dropLast(4)) }
        var running: [String: DomainDevices] = [:]
        for name in names {
            switch processes.state(of: name) {
            case .exited, .notRunning: continue
            case .unknown(let why):
                throw PlatformError(.unavailable, nil, "cannot tell whether domain \(name) on \(self.name) still runs (\(why))")
            case .running:
                switch processes.host.read("\(dir)/\(name).xml") {
                case .missing:
                    // libvirt writes the status file before it starts QEMU and removes it after the
                    // QEMU is gone: a running QEMU without one is not something to guess about.
                    if case .running = processes.state(of: name) {
                        throw PlatformError(.unavailable, nil, "domain \(name) on \(self.name) runs but libvirt's status file of it is missing")
                    }
                case .unreadable(let why):
                    throw PlatformError(.unavailable, nil, "cannot read what running domain \(name) on \(self.name) holds (\(why))")
                case .contents(let bytes):
                    do { running[name] = try DomainDevices(xml: String(decoding: bytes, as: UTF8.self)) } catch {
                        throw PlatformError(.unavailable, nil, "cannot read what running domain \(name) on \(self.name) holds (its status file: \(error))")
                    }
                }
            }
        }
        return running
    }
}
