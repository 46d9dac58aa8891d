/// Checks a definition's meaning before anything is touched, and reports every problem at once.
public enum Validator {
    /// Characters libvirt and Linux accept in the names the platform turns into domains,
    /// networks, pools and volumes.
    static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.count <= 64 else { return false }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.".unicodeScalars)
        return first.properties.isAlphabetic || ("0"..."9").contains(Character(first))
            ? name.unicodeScalars.allSatisfy(allowed.contains) : false
    }

    static let maxBridgeName = 15 // IFNAMSIZ - 1
    /// Memory of one processor: 16 TiB, beyond any host this runs on (the host's own memory is checked
    /// at plan time), and small enough that its KiB and bytes (2^44) fit Int and UInt64 with room.
    public static let maxMemoryMiB = 16 << 20

    public static func validate(_ loaded: LoadedPlatform) -> [ConfigIssue] {
        var issues: [ConfigIssue] = []
        let p = loaded.definition
        func issue(_ field: String, _ message: String) { issues.append(loaded.issue(field, message)) }

        func checkName(_ field: String, _ name: String, _ what: String) {
            if !isValidName(name) {
                issue(field, "\(what) name '\(name)' is not valid: use letters, digits, '-', '_' or '.', starting with a letter or digit, at most 64 characters")
            }
        }
        func checkUnique(_ names: [String], _ field: (Int) -> String, _ what: String) {
            var seen: [String: Int] = [:]
            for (i, name) in names.enumerated() {
                if let first = seen[name] { issue(field(i), "\(what) '\(name)' is defined twice (first at \(field(first)))") }
                else { seen[name] = i }
            }
        }

        checkName("platform", p.platform, "platform")

        // MAC prefix for allocation.
        let prefix = p.effectiveMACPrefix
        let prefixBytes = MACAddress(prefix + ":00:00:00")
        if p.macPrefix != nil {
            if let bytes = prefixBytes {
                if bytes.isMulticast { issue("macPrefix", "'\(prefix)' is a multicast prefix; allocated MACs must be unicast") }
                if !bytes.isLocallyAdministered { issue("macPrefix", "'\(prefix)' is not locally administered (set bit 0x02 of the first byte, e.g. 02:…)") }
            } else {
                issue("macPrefix", "'\(prefix)' is not a 3-byte MAC prefix like 02:56:50")
            }
        }

        // Hosts.
        let hostNames = p.hosts.map(\.name), hostSet = Set(hostNames)
        if p.hosts.isEmpty { issue("hosts", "at least one host is needed") }
        checkUnique(hostNames, { "hosts[\($0)].name" }, "host")
        for (i, host) in p.hosts.enumerated() {
            checkName("hosts[\(i)].name", host.name, "host")
            if !host.uri.contains(":") { issue("hosts[\(i)].uri", "'\(host.uri)' is not a libvirt URI (e.g. qemu:///system)") }
            if let type = host.domainType, !["auto", "qemu", "kvm"].contains(type) {
                issue("hosts[\(i)].domainType", "'\(type)' is not one of auto, qemu, kvm")
            }
            if let sw = host.switchType, !["linux-bridge", "openvswitch"].contains(sw) {
                issue("hosts[\(i)].switch", "'\(sw)' is not one of linux-bridge, openvswitch")
            }
        }

        // Processors.
        let pool = p.processors
        if pool.vcpus < 1 || pool.vcpus > 64 { issue("processors.vcpus", "\(pool.vcpus) is outside 1–64") }
        if pool.memoryMiB < 64 { issue("processors.memoryMiB", "\(pool.memoryMiB) MiB is too small (at least 64)") }
        if pool.memoryMiB > maxMemoryMiB {
            issue("processors.memoryMiB", "\(pool.memoryMiB) MiB is too large: at most \(maxMemoryMiB) MiB (16 TiB)")
        }
        checkUnique(pool.members.map(\.name), { "processors.members[\($0)].name" }, "processor")
        for (i, proc) in pool.members.enumerated() {
            checkName("processors.members[\(i)].name", proc.name, "processor")
            if !hostSet.contains(proc.host) { issue("processors.members[\(i)].host", "unknown host '\(proc.host)'") }
        }

        // VLANs.
        checkUnique(p.vlans.map(\.name), { "vlans[\($0)].name" }, "VLAN")
        // 802.1Q has 4094 ids, and ids are unique: more VLANs cannot be valid (and would make the
        // pairwise overlap check below quadratic in the file's size).
        let comparesSubnets = p.vlans.count <= 4094
        if !comparesSubnets { issue("vlans", "\(p.vlans.count) VLANs, but 802.1Q has only 4094 ids") }
        let vlanNames = Set(p.vlans.map(\.name))
        var vlanIDs: [Int: Int] = [:]
        var subnets: [String: IPv4Subnet] = [:]
        var subnetsInOrder: [(vlan: String, subnet: IPv4Subnet)] = []
        var bridges: [String: Int] = [:]
        var usedIPs: [IPv4Address: String] = [:]
        func claimIP(_ ip: IPv4Address, _ field: String) {
            if let other = usedIPs[ip] { issue(field, "address \(ip) is already used by \(other)") } else { usedIPs[ip] = field }
        }
        for (i, vlan) in p.vlans.enumerated() {
            checkName("vlans[\(i)].name", vlan.name, "VLAN")
            var idIsFine = false
            if !(1...4094).contains(vlan.id) { issue("vlans[\(i)].id", "802.1Q id \(vlan.id) is outside 1–4094") }
            else if let first = vlanIDs[vlan.id] { issue("vlans[\(i)].id", "802.1Q id \(vlan.id) is already used by vlans[\(first)] ('\(p.vlans[first].name)')") }
            else { vlanIDs[vlan.id] = i; idIsFine = true }
            if let mode = vlan.mode, !["isolated", "routed"].contains(mode) {
                issue("vlans[\(i)].mode", "'\(mode)' is not one of isolated, routed")
            }
            let bridge = Naming.bridge(platform: p.platform, vlan: vlan)
            if bridge.count > maxBridgeName || bridge.isEmpty || bridge.contains(where: { $0 == "/" || $0 == " " || $0 == ":" }) {
                issue("vlans[\(i)].bridge", "bridge name '\(bridge)' is not a valid Linux interface name (at most \(maxBridgeName) characters, no '/', ':' or spaces)")
            } else if let first = bridges[bridge], idIsFine || vlan.bridge != nil {
                // A default bridge name repeats only when the id does, which is reported already.
                issue("vlans[\(i)].bridge", "bridge '\(bridge)' is already used by vlans[\(first)]")
            } else { bridges[bridge] = i }
            guard let subnet = IPv4Subnet(vlan.subnet) else {
                issue("vlans[\(i)].subnet", "'\(vlan.subnet)' is not an IPv4 subnet like 10.30.1.0/24 (prefix 8–30, host bits zero)")
                continue
            }
            if comparesSubnets, let other = subnetsInOrder.first(where: { overlaps(subnet, $0.subnet) }) {
                issue("vlans[\(i)].subnet", "\(subnet) overlaps the subnet of VLAN '\(other.vlan)'")
            }
            subnets[vlan.name] = subnet
            subnetsInOrder.append((vlan.name, subnet))
            if let gateway = vlan.gateway {
                if let ip = IPv4Address(gateway) {
                    if subnet.containsHost(ip) { claimIP(ip, "vlans[\(i)].gateway") }
                    else { issue("vlans[\(i)].gateway", "\(gateway) is not a host address of \(subnet)") }
                } else { issue("vlans[\(i)].gateway", "'\(gateway)' is not an IPv4 address") }
            } else {
                claimIP(subnet.firstHost, "vlans[\(i)].gateway")
            }
        }

        let volumes = storageIssues(p, hostNames: hostSet, issue: issue, checkName: checkName, checkUnique: checkUnique)

        // Personalities.
        checkUnique(p.personalities.map(\.name), { "personalities[\($0)].name" }, "personality")
        var macs: [MACAddress: String] = [:]
        var volumeOwners: [String: String] = [:]
        for (i, person) in p.personalities.enumerated() {
            let base = "personalities[\(i)]"
            checkName("\(base).name", person.name, "personality")
            var vlansSeen: Set<String> = []
            for (j, nic) in person.nics.enumerated() {
                let field = "\(base).nics[\(j)]"
                if !vlanNames.contains(nic.vlan) { issue("\(field).vlan", "unknown VLAN '\(nic.vlan)'") }
                else if !vlansSeen.insert(nic.vlan).inserted { issue("\(field).vlan", "personality '\(person.name)' already has a NIC on VLAN '\(nic.vlan)'") }
                if !nic.wantsAllocatedMAC, let text = nic.mac {
                    if let mac = MACAddress(text.lowercased()) {
                        if mac.isMulticast { issue("\(field).mac", "\(text) is a multicast address; a NIC needs a unicast MAC") }
                        else if mac.bytes == [0, 0, 0, 0, 0, 0] { issue("\(field).mac", "\(text) is the zero address") }
                        else if let other = macs[mac] { issue("\(field).mac", "\(text) is already used by \(other)") }
                        else { macs[mac] = field }
                    } else {
                        issue("\(field).mac", "'\(text)' is not a MAC address like 02:56:50:00:00:01")
                    }
                }
                if let text = nic.ip {
                    if let ip = IPv4Address(text) {
                        if let subnet = subnets[nic.vlan], !subnet.containsHost(ip) {
                            issue("\(field).ip", "\(text) is not a host address of VLAN '\(nic.vlan)' (\(subnet))")
                        } else { claimIP(ip, "\(field).ip") }
                    } else { issue("\(field).ip", "'\(text)' is not an IPv4 address") }
                }
            }
            var targets: Set<String> = []
            for (j, disk) in (person.disks ?? []).enumerated() {
                let field = "\(base).disks[\(j)]"
                if !isValidTarget(disk.target) { issue("\(field).target", "'\(disk.target)' is not a disk target like vdb (virtio) or sda (SCSI)") }
                else if !targets.insert(disk.target).inserted { issue("\(field).target", "target '\(disk.target)' is used twice in personality '\(person.name)'") }
                if !volumes.contains(disk.volume) { issue("\(field).volume", "unknown volume '\(disk.volume)' (write pool/volume)") }
                else if let owner = volumeOwners[disk.volume] {
                    issue("\(field).volume", "volume '\(disk.volume)' is already mapped to personality '\(owner)'; a volume has one writer")
                } else { volumeOwners[disk.volume] = person.name }
            }
        }
        if p.personalities.count > pool.members.count {
            issue("personalities", "\(p.personalities.count) personalities but only \(pool.members.count) processors")
        }

        // Standby policy.
        if let failover = p.failover {
            let vlanNames = Set(p.vlans.map(\.name))
            for (i, vlan) in (failover.classOfService ?? []).enumerated() where !vlanNames.contains(vlan) {
                issue("failover.classOfService[\(i)]", "VLAN '\(vlan)' is not defined")
            }
            if let hb = failover.heartbeat {
                if let v = hb.intervalMs, !(10...10_000).contains(v) { issue("failover.heartbeat.intervalMs", "\(v) is outside 10…10000") }
                if let v = hb.timeoutMs, !(1...5_000).contains(v) { issue("failover.heartbeat.timeoutMs", "\(v) is outside 1…5000") }
                if let v = hb.threshold, !(1...100).contains(v) { issue("failover.heartbeat.threshold", "\(v) is outside 1…100") }
                if let t = hb.timeoutMs, let i = hb.intervalMs, t >= i {
                    issue("failover.heartbeat.timeoutMs", "\(t) ms must be shorter than the interval (\(i) ms)")
                }
            }
            if let v = failover.confirmTimeoutSeconds, !(1...86_400).contains(v) {
                issue("failover.confirmTimeoutSeconds", "must be between 1 and 86400 (a day)")
            }
            if let v = failover.drainTimeoutSeconds, !(0...3600).contains(v) { issue("failover.drainTimeoutSeconds", "must be between 0 and 3600") }
        }
        if let standby = p.standby {
            if let mode = standby.mode, !["hot", "cold"].contains(mode) { issue("standby.mode", "'\(mode)' is not one of hot, cold") }
            if let count = standby.count {
                let spare = pool.members.count - p.personalities.count
                if count < 0 { issue("standby.count", "must not be negative") }
                else if count > spare { issue("standby.count", "\(count) standbys wanted but only \(max(spare, 0)) processors carry no personality") }
            }
        }

        // Service IPs.
        let services = p.services ?? []
        checkUnique(services.map(\.name), { "services[\($0)].name" }, "service")
        var endpoints: Set<String> = []
        var serviceVLANOf: [String: [(String, String)]] = [:]
        let subnetOwners = SubnetOwners(subnetsInOrder)
        let personByName = Dictionary(p.personalities.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for (i, service) in services.enumerated() {
            let base = "services[\(i)]"
            checkName("\(base).name", service.name, "service")
            if IPv4Address(service.address) == nil { issue("\(base).address", "'\(service.address)' is not an IPv4 address") }
            if !(1...65535).contains(service.port) { issue("\(base).port", "\(service.port) is outside 1–65535") }
            if !["tcp", "udp"].contains(service.protocolName) { issue("\(base).protocol", "'\(service.protocolName)' is not one of tcp, udp") }
            if !endpoints.insert("\(service.address):\(service.port)/\(service.protocolName)").inserted {
                issue("\(base).address", "\(service.address):\(service.port)/\(service.protocolName) is already a service")
            }
            if service.members.isEmpty { issue("\(base).members", "a service needs at least one member personality") }
            for (j, member) in service.members.enumerated() where personByName[member] == nil {
                issue("\(base).members[\(j)]", "unknown personality '\(member)'")
            }
            checkUnique(service.members, { "\(base).members[\($0)]" }, "member")
            if let address = IPv4Address(service.address), let vlan = subnetOwners.owner(of: address) {
                issue("\(base).address", "\(service.address) lies in the subnet of VLAN '\(vlan)'; a service IP must be an address of its own")
            }
            let known = service.members.filter { personByName[$0] != nil }
            if let vlan = service.vlan {
                if !vlanNames.contains(vlan) { issue("\(base).vlan", "VLAN '\(vlan)' is not defined") }
                for m in known where !personByName[m]!.nics.contains(where: { $0.vlan == vlan }) {
                    issue("\(base).vlan", "member '\(m)' has no NIC on VLAN '\(vlan)', so the host cannot reach it there")
                }
            } else if !known.isEmpty, known.count == service.members.count, service.backendVLAN(personalities: personByName) == nil {
                issue("\(base).members", "the members share no VLAN; give them a NIC on a common VLAN and name it in \(base).vlan")
            }
            if let size = service.tableSize, !(size >= 3 && size <= 1_000_003 && isPrime(size)) {
                issue("\(base).tableSize", "\(size) is not a prime between 3 and 1000003 (Maglev needs a prime table size; default \(ServiceIPDef.defaultTableSize))")
            }
            let members = Set(service.members)
            for (member, weight) in (service.weights ?? [:]).sorted(by: { $0.key < $1.key }) {
                if !members.contains(member) { issue("\(base).weights.\(member)", "'\(member)' is not a member of service '\(service.name)'") }
                if !(1...1000).contains(weight) { issue("\(base).weights.\(member)", "weight \(weight) is outside 1–1000") }
            }
            for (vlan, _) in (service.networkPriority ?? [:]).sorted(by: { $0.key < $1.key }) where !vlanNames.contains(vlan) {
                issue("\(base).networkPriority.\(vlan)", "VLAN '\(vlan)' is not defined")
            }
            for problem in service.healthCheck.map({ HealthCheckRules.issues($0, of: service) }) ?? [] {
                issue("\(base).healthCheck.\(problem.field)", problem.message)
            }
            if let vlan = service.backendVLAN(personalities: personByName) {
                for m in known { serviceVLANOf[m, default: []].append((vlan, base)) }
            }
        }
        // A member's replies leave through one default route: the host on its service VLAN.
        for (member, uses) in serviceVLANOf.sorted(by: { $0.key < $1.key }) where Set(uses.map(\.0)).count > 1 {
            let list = uses.map { "\($0.1) on \($0.0)" }.joined(separator: ", ")
            issue(uses[1].1 + ".vlan", "personality '\(member)' would serve services on different VLANs (\(list)); its replies can leave through only one")
        }

        return issues.sorted { ($0.line ?? 0, $0.field) < ($1.line ?? 0, $1.field) }
    }

    static func isPrime(_ n: Int) -> Bool {
        guard n >= 2 else { return false }
        var d = 2
        while d * d <= n { if n % d == 0 { return false }; d += 1 }
        return true
    }

    static func isValidTarget(_ target: String) -> Bool {
        guard target.count >= 3, target.hasPrefix("vd") || target.hasPrefix("sd") else { return false }
        return target.dropFirst(2).allSatisfy { ("a"..."z").contains($0) }
    }

    static func overlaps(_ a: IPv4Subnet, _ b: IPv4Subnet) -> Bool {
        let prefix = min(a.prefix, b.prefix)
        let mask = IPv4Subnet.mask(prefix)
        return a.network.value & mask == b.network.value & mask
    }
}

/// Which VLAN's subnet holds an address: one lookup per prefix length, not one per VLAN.
private struct SubnetOwners {
    /// prefix → network → position of the first VLAN with that subnet.
    private var byPrefix: [Int: [UInt32: Int]] = [:]
    private let vlans: [String]

    init(_ subnets: [(vlan: String, subnet: IPv4Subnet)]) {
        vlans = subnets.map(\.vlan)
        for (i, entry) in subnets.enumerated() where byPrefix[entry.subnet.prefix]?[entry.subnet.network.value] == nil {
            byPrefix[entry.subnet.prefix, default: [:]][entry.subnet.network.value] = i
        }
    }

    /// The first VLAN, in definition order, whose subnet contains the address.
    func owner(of address: IPv4Address) -> String? {
        byPrefix.compactMap { prefix, networks in networks[address.value & IPv4Subnet.mask(prefix)] }.min().map { vlans[$0] }
    }
}
