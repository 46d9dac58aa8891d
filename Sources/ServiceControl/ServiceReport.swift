import PlatformModel
import StateStore

/// One service as `vpctl service list|show` and `status -o json` present it.
public struct ServiceReport: Sendable, Codable, Equatable {
    public struct Member: Sendable, Codable, Equatable {
        public var personality: String
        public var processor: String?
        public var backend: String
        public var weight: Int
        public var healthy: Bool
        /// Why it takes no new flows (nil when healthy).
        public var reason: String?
        /// Slots of the lookup table that send flows to it: from the kernel when the table is
        /// installed, else what it would be.
        public var slots: Int
        public var share: Double
    }
    public var name: String
    public var address: String
    public var port: Int
    public var proto: String
    public var vlan: String
    public var hashSourcePort: Bool
    public var tableSize: Int
    /// Whether the kernel holds this service's table (nil: could not be read, see `note`).
    public var installed: Bool?
    /// The service's health check (nil: none).
    public var healthCheck: String?
    public var note: String?
    public var members: [Member]

    public var endpoint: String { "\(address):\(port)/\(proto)" }

    enum CodingKeys: String, CodingKey {
        case name, address, port, proto = "protocol", vlan, hashSourcePort, tableSize, installed, healthCheck, note, members
    }

    /// - Parameter kernel: slots per backend as the kernel holds them per service (from
    ///   `ServiceController.installedShares()`), or nil when the kernel could not be read.
    public static func make(catalog: ServiceCatalog, health: ServiceHealth, kernel: [String: [String: Int]?]?,
                            kernelNote: String? = nil) -> [ServiceReport] {
        catalog.entries.map { e in
            let healthy = health.healthy(in: e)
            let desired = catalog.rules(for: e, healthy: healthy).shares
            let installed: [String: Int]?? = kernel.map { $0[e.name] ?? nil }
            let counts: [String: Int] = (installed ?? nil) ?? desired
            let members = e.members.map { m in
                Member(personality: m.personality, processor: health.carriers[m.personality], backend: m.backend, weight: m.weight,
                       healthy: healthy.contains(m.personality), reason: health.reason(for: m.personality, in: e),
                       slots: counts[m.backend] ?? 0, share: Double(counts[m.backend] ?? 0) / Double(e.tableSize))
            }
            var note = kernelNote
            let isInstalled: Bool? = installed.map { $0 != nil }
            if isInstalled == false { note = "not in the kernel: run vpctl apply" }
            else if let current = installed ?? nil, current != desired.filter({ $0.value > 0 }) {
                note = "the kernel's table differs from the current health; vpctl serve (or vpctl apply) brings it up to date"
            }
            return ServiceReport(name: e.name, address: e.definition.address, port: e.definition.port, proto: e.definition.transport.rawValue,
                                 vlan: e.vlan, hashSourcePort: e.definition.hashSourcePort ?? false, tableSize: e.tableSize,
                                 installed: isInstalled,
                                 healthCheck: e.definition.healthCheck.map { HealthCheckSpec($0, servicePort: e.definition.port).summary },
                                 note: note, members: members)
        }
    }
}
