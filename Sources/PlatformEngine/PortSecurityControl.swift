import HostDoctor
import Libvirt
import PlatformModel
import PlatformRender
import ServiceDataPlane
import StateStore

extension PlatformEngine {
    /// Every personality NIC's port (bound or not: a move plugs it into another processor), keyed by
    /// the tap name the renderer gives it.
    func portSecurityRuleset(_ allocations: [String: NICAllocation]) -> PortSecurityRuleset {
        PortSecurityRuleset(platform: definition.platform, ports: allocations.values.map {
            .init(tap: Naming.tap(mac: $0.mac), mac: $0.mac, ip: $0.ip)
        })
    }

    var guestsRunHere: Bool { definition.hosts.contains { !LibvirtURI.isMock($0.uri) } }

    /// Programs the platform's port-security table before any NIC is plugged (one transaction).
    func programPortSecurity(_ allocations: [String: NICAllocation], cause: String) throws {
        guard guestsRunHere else { return }
        let ruleset = portSecurityRuleset(allocations)
        do { try DataPlane().program(ruleset) } catch {
            throw PortSecurity.Unavailable(host: definition.hosts[0].name,
                                           cause: "programming nftables table bridge \(ruleset.table): \(error)")
        }
        try store.append(JournalEntry(actor: actor, cause: cause, object: "nftables table bridge \(ruleset.table)", action: .program,
                                      detail: "port security on \(ruleset.ports.count) personality NICs"))
    }

    /// Removes the platform's port-security table if there is one.
    func removePortSecurity(cause: String) throws {
        guard guestsRunHere, let plane = try? DataPlane() else { return }
        let table = ServiceRuleset.tableName(platform: definition.platform)
        guard try plane.hasPortSecurity(table: table) else { return }
        try plane.removePortSecurity(table: table)
        try store.append(JournalEntry(actor: actor, cause: cause, object: "nftables table bridge \(table)", action: .delete,
                                      detail: "port security removed"))
    }
}
