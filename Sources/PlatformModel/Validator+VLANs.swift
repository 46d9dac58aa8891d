extension Validator {
    /// Names, 802.1Q ids, bridges, subnets (none overlapping) and gateways; records the subnets
    /// and gateway addresses that later rules read.
    static func checkVLANs(_ c: ValidationContext) {
        let p = c.p
        c.checkUnique(p.vlans.map(\.name), { "vlans[\($0)].name" }, "VLAN")
        // 802.1Q has 4094 ids, and ids are unique: more VLANs cannot be valid.
        if p.vlans.count > 4094 { c.issue("vlans", "\(p.vlans.count) VLANs, but 802.1Q has only 4094 ids") }
        var earlierSubnets = SubnetOverlaps()
        var vlanIDs: [Int: Int] = [:]
        var bridges: [String: Int] = [:]
        for (i, vlan) in p.vlans.enumerated() {
            c.checkName("vlans[\(i)].name", vlan.name, "VLAN")
            var idIsFine = false
            if !(1...4094).contains(vlan.id) { c.issue("vlans[\(i)].id", "802.1Q id \(vlan.id) is outside 1–4094") }
            else if let first = vlanIDs[vlan.id] { c.issue("vlans[\(i)].id", "802.1Q id \(vlan.id) is already used by vlans[\(first)] ('\(p.vlans[first].name)')") }
            else { vlanIDs[vlan.id] = i; idIsFine = true }
            let bridge = Naming.bridge(platform: p.platform, vlan: vlan)
            if bridge.count > maxBridgeName || bridge.isEmpty || bridge.contains(where: { $0 == "/" || $0 == " " || $0 == ":" }) {
                c.issue("vlans[\(i)].bridge", "bridge name '\(bridge)' is not a valid Linux interface name (at most \(maxBridgeName) characters, no '/', ':' or spaces)")
            } else if let first = bridges[bridge], idIsFine || vlan.bridge != nil {
                // A default bridge name repeats only when the id does, which is reported already.
                c.issue("vlans[\(i)].bridge", "bridge '\(bridge)' is already used by vlans[\(first)]")
            } else { bridges[bridge] = i }
            guard let subnet = IPv4Subnet(vlan.subnet) else {
                c.issue("vlans[\(i)].subnet", "'\(vlan.subnet)' is not an IPv4 subnet like 10.30.1.0/24 (prefix 8–30, host bits zero)")
                continue
            }
            if let other = earlierSubnets.firstOverlapping(subnet) {
                c.issue("vlans[\(i)].subnet", "\(subnet) overlaps the subnet of VLAN '\(c.subnetsInOrder[other].vlan)'")
            }
            earlierSubnets.add(subnet, at: c.subnetsInOrder.count)
            c.subnets[vlan.name] = subnet
            c.subnetsInOrder.append((vlan.name, subnet))
            checkGateway(c, of: vlan, at: i, in: subnet)
        }
    }

    /// The host's address on the VLAN: given (then a host address of the subnet) or the first one.
    private static func checkGateway(_ c: ValidationContext, of vlan: VLANDef, at i: Int, in subnet: IPv4Subnet) {
        guard let gateway = vlan.gateway else {
            c.claimIP(subnet.firstHost, "vlans[\(i)].gateway")
            return
        }
        if let ip = IPv4Address(gateway) {
            if subnet.containsHost(ip) { c.claimIP(ip, "vlans[\(i)].gateway") }
            else { c.issue("vlans[\(i)].gateway", "\(gateway) is not a host address of \(subnet)") }
        } else { c.issue("vlans[\(i)].gateway", "'\(gateway)' is not an IPv4 address") }
    }
}
