extension Validator {
    /// Each service IP: its endpoint, members, backend VLAN, table size, weights, network
    /// priorities and health check.
    static func checkServices(_ c: ValidationContext) {
        let services = c.p.services ?? []
        c.checkUnique(services.map(\.name), { "services[\($0)].name" }, "service")
        var endpoints: Set<String> = []
        let subnetOwners = SubnetOwners(c.subnetsInOrder)
        let personByName = personalitiesByName(c.p)
        for (i, service) in services.enumerated() {
            let base = "services[\(i)]"
            checkEndpoint(c, of: service, base: base, endpoints: &endpoints, subnetOwners: subnetOwners)
            checkMembers(c, of: service, base: base, personByName: personByName)
            if let size = service.tableSize, !(size >= 3 && size <= 1_000_003 && isPrime(size)) {
                c.issue("\(base).tableSize", "\(size) is not a prime between 3 and 1000003 (Maglev needs a prime table size; default \(ServiceIPDef.defaultTableSize))")
            }
            let members = Set(service.members)
            for (member, weight) in (service.weights ?? [:]).sorted(by: { $0.key < $1.key }) {
                if !members.contains(member) { c.issue("\(base).weights.\(member)", "'\(member)' is not a member of service '\(service.name)'") }
                if !(1...1000).contains(weight) { c.issue("\(base).weights.\(member)", "weight \(weight) is outside 1–1000") }
            }
            let vlanNames = c.vlanNames
            for (vlan, _) in (service.networkPriority ?? [:]).sorted(by: { $0.key < $1.key }) where !vlanNames.contains(vlan) {
                c.issue("\(base).networkPriority.\(vlan)", "VLAN '\(vlan)' is not defined")
            }
            for problem in service.healthCheck.map({ HealthCheckRules.issues($0, of: service) }) ?? [] {
                c.issue("\(base).healthCheck.\(problem.field)", problem.message)
            }
        }
    }

    /// Name, address, port and protocol; no endpoint twice; the address in no VLAN's subnet.
    private static func checkEndpoint(_ c: ValidationContext, of service: ServiceIPDef, base: String,
                                      endpoints: inout Set<String>, subnetOwners: SubnetOwners) {
        c.checkName("\(base).name", service.name, "service")
        if IPv4Address(service.address) == nil { c.issue("\(base).address", "'\(service.address)' is not an IPv4 address") }
        if !(1...65535).contains(service.port) { c.issue("\(base).port", "\(service.port) is outside 1–65535") }
        if !endpoints.insert("\(service.address):\(service.port)/\(service.transport)").inserted {
            c.issue("\(base).address", "\(service.address):\(service.port)/\(service.transport) is already a service")
        }
        if let address = IPv4Address(service.address), let vlan = subnetOwners.owner(of: address) {
            c.issue("\(base).address", "\(service.address) lies in the subnet of VLAN '\(vlan)'; a service IP must be an address of its own")
        }
    }

    /// Members known and unique, on a VLAN where the host reaches every one of them.
    private static func checkMembers(_ c: ValidationContext, of service: ServiceIPDef, base: String,
                                     personByName: [String: PersonalityDef]) {
        if service.members.isEmpty { c.issue("\(base).members", "a service needs at least one member personality") }
        for (j, member) in service.members.enumerated() where personByName[member] == nil {
            c.issue("\(base).members[\(j)]", "unknown personality '\(member)'")
        }
        c.checkUnique(service.members, { "\(base).members[\($0)]" }, "member")
        let known = service.members.filter { personByName[$0] != nil }
        if let vlan = service.vlan {
            if !c.vlanNames.contains(vlan) { c.issue("\(base).vlan", "VLAN '\(vlan)' is not defined") }
            for m in known where !personByName[m]!.nics.contains(where: { $0.vlan == vlan }) {
                c.issue("\(base).vlan", "member '\(m)' has no NIC on VLAN '\(vlan)', so the host cannot reach it there")
            }
        } else if !known.isEmpty, known.count == service.members.count, service.backendVLAN(personalities: personByName) == nil {
            c.issue("\(base).members", "the members share no VLAN; give them a NIC on a common VLAN and name it in \(base).vlan")
        }
    }

    /// A member's replies leave through one default route: the host on its service VLAN.
    static func checkOneServiceVLANPerMember(_ c: ValidationContext) {
        let personByName = personalitiesByName(c.p)
        var serviceVLANOf: [String: [(String, String)]] = [:]
        for (i, service) in (c.p.services ?? []).enumerated() {
            guard let vlan = service.backendVLAN(personalities: personByName) else { continue }
            for m in service.members where personByName[m] != nil { serviceVLANOf[m, default: []].append((vlan, "services[\(i)]")) }
        }
        for (member, uses) in serviceVLANOf.sorted(by: { $0.key < $1.key }) where Set(uses.map(\.0)).count > 1 {
            let list = uses.map { "\($0.1) on \($0.0)" }.joined(separator: ", ")
            c.issue(uses[1].1 + ".vlan", "personality '\(member)' would serve services on different VLANs (\(list)); its replies can leave through only one")
        }
    }

    private static func personalitiesByName(_ p: PlatformDefinition) -> [String: PersonalityDef] {
        Dictionary(p.personalities.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }
}
