import Libvirt
import LibvirtXML

/// One libvirt host as the controller needs it: its domains and their state, what each domain
/// holds, device hot-plug, power, the QEMU process watch and fencing. `LibvirtHost` is the real
/// one; `FakeHost` (HostsTesting) simulates domains in memory for unit tests of the engine.
///
/// Every method that may block (a libvirt call) is async: implementations must not run it on
/// Swift's cooperative thread pool.
public protocol Host: Sendable {
    var name: String { get }
    /// This machine's libvirt: its QEMU processes can be read and killed from here.
    var isLocal: Bool { get }

    /// The domain's state; nil when it is not defined on this host.
    func state(of domain: String) async throws -> DomainStatus?
    /// The NICs and disks the domain has: running (`live`) or in its persistent definition (`config`).
    /// Throws a not-found `PlatformError` when it is not defined.
    func devices(of domain: String, _ scope: DeviceScope) async throws -> DomainDevices
    /// What every running domain holds (the device guard asks before each attach). On this host it
    /// comes from libvirt's status files, so a domain libvirt is still cleaning up does not make
    /// the caller wait. Throws when a domain that may run cannot be read: it may hold anything.
    func runningDomains() async throws -> [String: DomainDevices]
    func attach(_ device: Device, to domain: String, _ scopes: Set<DeviceScope>) async throws
    func detach(_ device: Device, from domain: String, _ scopes: Set<DeviceScope>) async throws
    func start(_ domain: String) async throws
    func destroy(_ domain: String) async throws
    /// Sets the domain's metadata element of `metadata.namespace` (who owns it, what it carries).
    func setMetadata(_ metadata: MetadataSpec, of domain: String, live: Bool) async throws
    /// Makes the guest's NICs announce their MACs (QMP announce-self) so bridges learn the new port.
    func announce(_ domain: String) async throws
    /// The file behind a pool's volume (nil: no such volume), so that a disk given as a path is
    /// recognised as the same volume.
    func volumePath(pool: String, volume: String) async -> String?

    /// The domain's QEMU process on this host (`.notRunning` for a host that is not local).
    func process(of domain: String) -> QEMUProcess.State
    /// Stops the domain and confirms it is off; `unconfirmed` when it cannot be proven.
    func fence(_ domain: String, planned: Bool) async -> FenceOutcome
    /// libvirt's lifecycle events and the connection's close, until it closes.
    func events() async throws -> AsyncStream<ConnectionEvent>
}

public enum DeviceScope: String, Sendable, Hashable, CaseIterable {
    /// The running domain.
    case live
    /// Its persistent definition (what it has at its next start).
    case config
}

/// A device the controller plugs: a personality's NIC or disk.
public enum Device: Sendable, Equatable, CustomStringConvertible {
    case nic(InterfaceSpec)
    case disk(DiskSpec)

    public var xml: String {
        switch self {
        case .nic(let nic): nic.render()
        case .disk(let disk): disk.render()
        }
    }

    public var description: String {
        switch self {
        case .nic(let nic): "NIC \(nic.mac.lowercased()) on \(nic.network)"
        case .disk(let disk): "disk \(disk.target) (\(DomainDevices.Disk.source(of: disk)))"
        }
    }
}

/// Whether a processor is off, and how that is known.
public enum FenceOutcome: Sendable, Equatable {
    case off(String)
    /// It could not be confirmed off; an administrator must vouch.
    case unconfirmed(String)
}
