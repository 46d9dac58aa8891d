import PlatformRender

// Deletions: objects the platform owns (by UUID) that the definition no longer has.
extension Planner {
    static func planRemovedProcessors(host: String, wanted: [DesiredState.Processor], actual: ActualState,
                                      owns: (_ kind: String, _ name: String, _ uuid: String) -> Bool) -> [Change] {
        planRemoved("domain", as: "processor", host: host, wanted: wanted.map(\.spec.name),
                    found: actual.domains.values.map { (name: $0.name, uuid: $0.uuid) }, owns: owns, phase: 2, action: Action.removeDomain)
    }

    static func planRemovedNetworks(host: String, wanted: [DesiredState.Network], actual: ActualState,
                                    owns: (_ kind: String, _ name: String, _ uuid: String) -> Bool) -> [Change] {
        planRemoved("network", as: "network", host: host, wanted: wanted.map(\.spec.name),
                    found: actual.networks.values.map { (name: $0.name, uuid: $0.uuid) }, owns: owns, phase: 3, action: Action.removeNetwork)
    }

    /// One deletion, in `phase`, of each libvirt object of `kind` found on the host that the
    /// platform owns and no longer wants, by name; `object` names it in the plan ("processor p3").
    private static func planRemoved(_ kind: String, as object: String, host: String, wanted: [String],
                                    found: [(name: String, uuid: String)],
                                    owns: (_ kind: String, _ name: String, _ uuid: String) -> Bool,
                                    phase: Int, action: (String) -> Action) -> [Change] {
        let wanted = Set(wanted)
        return found.sorted { $0.name < $1.name }
            .filter { !wanted.contains($0.name) && owns(kind, $0.name, $0.uuid) }
            .map { Change(verb: .delete, host: host, object: "\(object) \($0.name)", reasons: ["no longer defined"],
                          actions: [action($0.name)], phase: phase) }
    }
}
