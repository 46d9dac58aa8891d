extension ServiceIPDef {
    /// The VLAN on which the host reaches the service's members: the one named, or the first VLAN
    /// (in the first member's NIC order) that every member has a NIC on; nil when there is none.
    public func backendVLAN(in p: PlatformDefinition) -> String? {
        if let vlan { return vlan }
        let nicsOf = { (name: String) in Set(p.personalities.first { $0.name == name }?.nics.map(\.vlan) ?? []) }
        guard let first = members.first, let firstPerson = p.personalities.first(where: { $0.name == first }) else { return nil }
        return firstPerson.nics.map(\.vlan).first { vlan in members.allSatisfy { nicsOf($0).contains(vlan) } }
    }
}

extension PlatformDefinition {
    /// VLANs that carry service backends and are not routed by the administrator: the host
    /// routes them for service traffic only (the platform's nftables table lets nothing else cross).
    public var serviceRoutedVLANs: Set<String> {
        let routed = Set(vlans.filter { $0.mode == "routed" }.map(\.name))
        return Set((services ?? []).compactMap { $0.backendVLAN(in: self) }).subtracting(routed)
    }
}
