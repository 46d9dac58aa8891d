import LibvirtXML

extension Planner {
    /// A wanted network: created when missing, recreated when its shape differs, else its DHCP
    /// reservations and running state corrected. nil when it is as wanted.
    static func planNetwork(_ spec: NetworkSpec, host: String, have: ActualState.Network?) -> Change? {
        guard let have else {
            return Change(verb: .create, host: host, object: "network \(spec.name)",
                          reasons: ["bridge \(spec.bridge), \(spec.address)/\(spec.prefix), \(spec.hosts.count) DHCP reservations"],
                          actions: [.defineNetwork(spec), .startNetwork(spec.name)], phase: 0)
        }
        var reasons: [String] = []
        var actions: [Action] = []
        let shape = have.bridge == spec.bridge && have.address == spec.address && have.prefix == spec.prefix
            && have.forwardMode == forwardMode(spec.mode)
        if !shape {
            reasons.append("bridge/address/forwarding differ (\(have.bridge) \(have.address ?? "-")/\(have.prefix.map(String.init) ?? "-") → \(spec.bridge) \(spec.address)/\(spec.prefix)); recreated")
            actions = [.recreateNetwork(spec)]
        } else {
            let want = Set(spec.hosts.map { ActualState.DHCPHostKey(mac: $0.mac.lowercased(), ip: $0.ip) })
            for extra in have.hosts.subtracting(want).sorted() {
                reasons.append("DHCP reservation \(extra.mac) → \(extra.ip) is not wanted")
                actions.append(.removeDHCPHost(network: spec.name, DHCPHost(mac: extra.mac, ip: extra.ip)))
            }
            for host in spec.hosts where !have.hosts.contains(.init(mac: host.mac.lowercased(), ip: host.ip)) {
                reasons.append("DHCP reservation \(host.mac) → \(host.ip) is missing")
                actions.append(.addDHCPHost(network: spec.name, host))
            }
            if !have.active { reasons.append("not running"); actions.append(.startNetwork(spec.name)) }
        }
        guard !actions.isEmpty else { return nil }
        return Change(verb: .update, host: host, object: "network \(spec.name)", reasons: reasons, actions: actions, phase: 0)
    }
}
