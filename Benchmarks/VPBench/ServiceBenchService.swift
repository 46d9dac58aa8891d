import PlatformHarness
import PlatformModel
import ServiceControl
import ServiceDataPlane

/// The throughput bench's service as a platform definition states it: one TCP service on the
/// bench bridge's VLAN, one personality per nginx backend namespace. It goes through the
/// product's loader and validator and its rules come from `ServiceCatalog`, so the bench
/// measures the rules `vpctl serve` programs, not a copy of them.
struct ServiceBenchService {
    static let platform = "bench"
    static let vlan = "lab"
    let catalog: ServiceCatalog

    /// - Parameter backends: personality name → its address in its namespace.
    init(bridge: String, address: String, backends: [(name: String, address: String)]) throws {
        let header = DefinitionYAML(platform: Self.platform, processors: backends.map(\.name), uri: "test:///default",
                                    domainType: nil, memoryMiB: 128)
        let yaml = header.yaml("""
        vlans: [{ name: \(Self.vlan), id: 100, subnet: 10.219.0.0/24, bridge: \(bridge) }]
        personalities:
        \(backends.map { "  - { name: \($0.name), nics: [{ vlan: \(Self.vlan) }] }" }.joined(separator: "\n"))
        services: [{ name: web, address: \(address), port: 80, protocol: tcp, members: [\(backends.map(\.name).joined(separator: ", "))] }]
        """)
        let loaded = try PlatformLoader.parse(yaml, file: "service-throughput bench")
        let issues = Validator.validate(loaded)
        guard issues.isEmpty else { throw ConfigErrors(issues: issues) }
        // The namespaces' fixed addresses stand where the controller would put its allocations.
        let allocations = Dictionary(uniqueKeysWithValues: backends.map { b in
            let key = NICAllocation.key(personality: b.name, vlan: Self.vlan)
            return (key, NICAllocation(key: key, mac: "", ip: b.address))
        })
        catalog = try ServiceCatalog(definition: loaded.definition, allocations: allocations)
    }

    var table: String { catalog.table }

    /// Every backend healthy, each with its fallback ready, as the controller programs it; only
    /// `routedBridges` is the bench's choice (the direct path measures the table with none).
    func ruleset(routedBridges: [String]) -> ServiceRuleset {
        ServiceRuleset(table: catalog.table, routedBridges: routedBridges,
                       services: catalog.entries.map { catalog.rules(for: $0, healthy: Set($0.members.map(\.personality))) })
    }
}
