import PlatformModel
import PlatformRender
import StateStore

/// What failover needs to know about the platform at one moment: where each processor lives,
/// what each personality carries, who carries what, who is failed. Built from the definition and
/// the state store; rebuilt whenever those may have changed.
public struct PlatformView: Sendable {
    public var platform: String
    /// Processor names in definition order.
    public var processors: [String]
    public var hostOf: [String: String]
    public var devices: [String: Renderer.PersonalityDevices]
    /// personality → processor.
    public var bindings: [String: String]
    public var failed: Set<String>
    /// Being stopped or restarted by an apply right now.
    public var maintenance: Set<String>
    public var hotStandbys: Bool
    /// How many spares to keep running (nil: all of them).
    public var hotStandbyCount: Int?
    public var preferSameHost: Bool
    public var classOfService: [String]

    public init(definition p: PlatformDefinition, store: any PlatformStore) throws {
        let allocations = try store.allocations()
        platform = p.platform
        processors = p.processors.members.map(\.name)
        let hostOf = Dictionary(p.processors.members.map { ($0.name, $0.host) }, uniquingKeysWith: { a, _ in a })
        let devices = Dictionary(p.personalities.map { ($0.name, Renderer.devicesOf($0, in: p, allocations: allocations)) },
                                 uniquingKeysWith: { a, _ in a })
        self.hostOf = hostOf
        self.devices = devices
        bindings = try store.bindings().filter { devices[$0.key] != nil && hostOf[$0.value] != nil }
        let states = try store.processorStates().values
        failed = Set(states.filter { $0.state == .failed }.map(\.processor))
        maintenance = Set(states.filter { $0.state == .maintenance }.map(\.processor))
        hotStandbys = p.standbyMode == .hot
        hotStandbyCount = p.standby?.count
        preferSameHost = p.standby?.preferSameHost ?? true
        classOfService = p.failover?.classOfService ?? []
    }

    public func personality(on processor: String) -> String? {
        bindings.first { $0.value == processor }?.key
    }

    /// The personality's addresses, primary first: VLANs in class-of-service order, the rest in
    /// the personality's NIC order.
    public func addresses(of personality: String) -> [DestinationEntry.Address] {
        let nics = devices[personality]?.nics ?? []
        let rank = { (vlan: String) in classOfService.firstIndex(of: vlan) ?? classOfService.count }
        return nics.enumerated().sorted { (rank($0.element.vlan), $0.offset) < (rank($1.element.vlan), $1.offset) }
            .map { DestinationEntry.Address(vlan: $0.element.vlan, ip: $0.element.ip) }
    }

    /// Every processor that carries a personality and is not failed or being moved away from.
    public func heartbeatTargets(excluding moving: Set<String>) -> [HeartbeatTarget] {
        bindings.sorted { $0.key < $1.key }.compactMap { personality, processor in
            guard !failed.contains(processor), !moving.contains(processor) else { return nil }
            let addresses = addresses(of: personality)
            return addresses.isEmpty ? nil : HeartbeatTarget(processor: processor, addresses: addresses)
        }
    }
}
