import PlatformRender

// Deletions: objects the platform owns (by UUID) that the definition no longer has.
extension Planner {
    static func planRemovedProcessors(host: String, wanted: [DesiredState.Processor], actual: ActualState,
                                      owns: (_ kind: String, _ name: String, _ uuid: String) -> Bool) -> [Change] {
        let wantedNames = Set(wanted.map(\.spec.name))
        return actual.domains.values.sorted(by: { $0.name < $1.name })
            .filter { !wantedNames.contains($0.name) && owns("domain", $0.name, $0.uuid) }
            .map { Change(verb: .delete, host: host, object: "processor \($0.name)", reasons: ["no longer defined"],
                          actions: [.removeDomain($0.name)], phase: 2) }
    }

    static func planRemovedNetworks(host: String, wanted: [DesiredState.Network], actual: ActualState,
                                    owns: (_ kind: String, _ name: String, _ uuid: String) -> Bool) -> [Change] {
        let wantedNames = Set(wanted.map(\.spec.name))
        return actual.networks.values.sorted(by: { $0.name < $1.name })
            .filter { !wantedNames.contains($0.name) && owns("network", $0.name, $0.uuid) }
            .map { Change(verb: .delete, host: host, object: "network \($0.name)", reasons: ["no longer defined"],
                          actions: [.removeNetwork($0.name)], phase: 3) }
    }
}
