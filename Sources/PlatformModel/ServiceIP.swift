extension ServiceIPDef {
    /// The VLAN on which the host reaches the service's members: the one named, or the first VLAN
    /// (in the first member's NIC order) that every member has a NIC on; nil when there is none.
    public func backendVLAN(in p: PlatformDefinition) -> String? {
        backendVLAN(personalities: Dictionary(p.personalities.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first }))
    }

    /// The same, with the personalities by name (the validator looks them up once for all services).
    func backendVLAN(personalities: [String: PersonalityDef]) -> String? {
        if let vlan { return vlan }
        let nicsOf = Dictionary(members.map { ($0, Set(personalities[$0]?.nics.map(\.vlan) ?? [])) },
                                uniquingKeysWith: { first, _ in first })
        guard let first = members.first, let firstPerson = personalities[first] else { return nil }
        return firstPerson.nics.map(\.vlan).first { vlan in members.allSatisfy { nicsOf[$0]?.contains(vlan) == true } }
    }
}

extension PlatformDefinition {
    /// VLANs that carry service backends and are not routed by the administrator: the host
    /// routes them for service traffic only (the platform's nftables table lets nothing else cross).
    public var serviceRoutedVLANs: Set<String> {
        let routed = Set(vlans.filter { $0.vlanMode == .routed }.map(\.name))
        return Set((services ?? []).compactMap { $0.backendVLAN(in: self) }).subtracting(routed)
    }
}
