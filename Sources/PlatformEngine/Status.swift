import Foundation
import ServiceControl
import Libvirt
import PlatformModel
import PlatformRender
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

extension PlatformEngine {
    public func status() async throws -> PlatformStatus {
        let p = definition
        // The roles, bindings and addresses apply would give, read fresh from the store on every
        // request; not the whole desired state (every domain's devices, every network's DHCP
        // hosts), which status does not show and which cost most of a request at 1,000 processors.
        let (allocation, failed, bindings) = try placement()
        var processors: [PlatformStatus.Processor] = []
        for (proc, person, role) in Renderer.roles(p, bindings: bindings, failed: failed) {
            let state: String
            if let dom = try connections[proc.host]?.domainIfPresent(named: proc.name) {
                state = try dom.status().state.rawValue
            } else {
                state = "missing"
            }
            processors.append(.init(name: proc.name, host: proc.host, state: state, role: role.rawValue, personality: person?.name))
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
