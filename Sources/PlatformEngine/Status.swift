import Foundation
import Libvirt
import PlatformModel
import PlatformRender
import ServiceControl
import ServiceDataPlane
import StateStore

/// What `vpctl status` shows: the platform as it is now.
public struct PlatformStatus: Codable, Sendable {
    public struct Processor: Codable, Sendable {
        public var name: String
        public var host: String
        /// libvirt state ("running", "shutoff", …) or "missing".
        public var state: String
        /// "active", "hot-standby", "cold-standby" or "failed" (until `vpctl repair`).
        public var role: String
        public var personality: String?
    }
    public struct Membership: Codable, Sendable {
        public var personality: String
        public var processor: String?
        public var vlan: String
        public var mac: String
        public var ip: String
    }
    public struct StorageMapping: Codable, Sendable {
        public var personality: String
        public var processor: String?
        public var target: String
        public var volume: String
    }
    public var platform: String
    public var processors: [Processor]
    public var vlans: [String]
    public var memberships: [Membership]
    public var storage: [StorageMapping]
    public var services: [ServiceReport]
    /// Reference 003: each service's addresses in the order each processor should try them.
    public var addressLists: [AddressList]
    /// Failovers and planned moves not finished yet (`vpctl events` tells their story).
    public var moving: [FailoverRecord]
}

/// Everything status is made of, each as a value that changes when it does: the store's state
/// revision, the libvirt state of each of the platform's processors, and (with services) the
/// kernel's nftables generation. Equal inputs give an equal status (for the same definition).
public struct StatusInputs: Equatable, Sendable {
    public var storeRevision: Int64
    /// Processor name → its libvirt state; a processor libvirt does not have is absent.
    public var processorStates: [String: DomainStatus.State]
    /// nil without services (the kernel is not read).
    public var kernelGeneration: UInt32?
    /// False when the kernel's generation could not be read: then nothing tells whether its table
    /// changed, and status must be made afresh.
    public var kernelKnown: Bool
}

extension PlatformEngine {
    /// What status would be made of now: a store read, one libvirt call per host, one netlink
    /// request, whatever the size of the platform.
    public func statusInputs() throws -> StatusInputs {
        var generation: UInt32?
        var known = true
        if let services = definition.services, !services.isEmpty {
            do { generation = try DataPlane.generation() } catch { known = false }
        }
        return StatusInputs(storeRevision: try store.stateRevision(), processorStates: try processorStates(),
                            kernelGeneration: generation, kernelKnown: known)
    }

    /// The libvirt state of each of the platform's processors that libvirt has, one call per host.
    func processorStates() throws -> [String: DomainStatus.State] {
        let p = definition
        var states: [String: DomainStatus.State] = [:]
        states.reserveCapacity(p.processors.members.count)
        for host in p.hosts {
            guard let all = try connections[host.name]?.domainStates() else { continue }
            for proc in p.processors.members where proc.host == host.name {
                if let state = all[proc.name]?.state { states[proc.name] = state }
            }
        }
        return states
    }

    public func status() async throws -> PlatformStatus {
        let p = definition
        let states = try processorStates()
        // The roles, bindings and addresses apply would give, read fresh from the store; not the
        // whole desired state (every domain's devices, every network's DHCP hosts), which status
        // does not show and which cost most of a request at 1,000 processors.
        let (allocation, failed, bindings) = try placement()
        var processors: [PlatformStatus.Processor] = []
        for (proc, person, role) in Renderer.roles(p, bindings: bindings, failed: failed) {
            processors.append(.init(name: proc.name, host: proc.host, state: states[proc.name]?.rawValue ?? "missing",
                                    role: role.rawValue, personality: person?.name))
        }
        var memberships: [PlatformStatus.Membership] = []
        var storage: [PlatformStatus.StorageMapping] = []
        for person in p.personalities {
            for nic in person.nics {
                let a = allocation.nics[NICAllocation.key(personality: person.name, vlan: nic.vlan)]
                memberships.append(.init(personality: person.name, processor: bindings[person.name], vlan: nic.vlan,
                                         mac: a?.mac ?? "?", ip: a?.ip ?? "?"))
            }
            for disk in person.disks ?? [] {
                storage.append(.init(personality: person.name, processor: bindings[person.name], target: disk.target, volume: disk.volume))
            }
        }
        let (services, addressLists) = try serviceStatus(allocations: allocation.nics)
        return PlatformStatus(platform: p.platform, processors: processors, vlans: p.vlans.map(\.name),
                              memberships: memberships, storage: storage, services: services, addressLists: addressLists,
                              moving: try store.unfinishedFailovers())
    }
}

extension PlatformEngine {
    /// Services with their members' health and shares (from the kernel when it can be read), and
    /// every processor's ordered address list for each service.
    public func serviceStatus(allocations: [String: NICAllocation]? = nil) throws -> ([ServiceReport], [AddressList]) {
        let p = definition
        guard let defs = p.services, !defs.isEmpty else { return ([], []) }
        // Before the first apply the addresses are what apply would give.
        let allocations = try allocations ?? Allocator.allocate(p, remembered: try store.allocations()).nics
        let catalog = try ServiceCatalog(definition: p, allocations: allocations)
        let health = try ServiceHealth.read(definition: p, store: store)
        var kernel: [String: [String: Int]?]?
        var note: String?
        do { kernel = try ServiceController(definition: p, store: store).installedShares() }
        catch { note = "cannot read the kernel's table: \(error)" }
        let reports = ServiceReport.make(catalog: catalog, health: health, kernel: kernel, kernelNote: note)
        let lists = try defs.flatMap { s in
            try p.processors.members.map {
                try AddressLists.list(service: s, client: $0.name, definition: p, allocations: allocations, health: health)
            }
        }
        return (reports, lists)
    }
}
