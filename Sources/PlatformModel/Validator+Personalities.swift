extension Validator {
    /// Each personality's NICs and disks, MACs and volumes unique across them, and no more
    /// personalities than processors.
    static func checkPersonalities(_ c: ValidationContext) {
        let p = c.p
        c.checkUnique(p.personalities.map(\.name), { "personalities[\($0)].name" }, "personality")
        var macs: [MACAddress: String] = [:]
        var volumeOwners: [String: String] = [:]
        for (i, person) in p.personalities.enumerated() {
            let base = "personalities[\(i)]"
            c.checkName("\(base).name", person.name, "personality")
            checkNICs(c, of: person, base: base, macs: &macs)
            checkDisks(c, of: person, base: base, volumeOwners: &volumeOwners)
        }
        if p.personalities.count > p.processors.members.count {
            c.issue("personalities", "\(p.personalities.count) personalities but only \(p.processors.members.count) processors")
        }
    }

    /// One NIC per VLAN; a given MAC unicast, not zero and unused; a given IP a free host address of its VLAN.
    private static func checkNICs(_ c: ValidationContext, of person: PersonalityDef, base: String, macs: inout [MACAddress: String]) {
        let vlanNames = c.vlanNames
        var vlansSeen: Set<String> = []
        for (j, nic) in person.nics.enumerated() {
            let field = "\(base).nics[\(j)]"
            if !vlanNames.contains(nic.vlan) { c.issue("\(field).vlan", "unknown VLAN '\(nic.vlan)'") }
            else if !vlansSeen.insert(nic.vlan).inserted { c.issue("\(field).vlan", "personality '\(person.name)' already has a NIC on VLAN '\(nic.vlan)'") }
            if !nic.wantsAllocatedMAC, let text = nic.mac {
                if let mac = MACAddress(text.lowercased()) {
                    if mac.isMulticast { c.issue("\(field).mac", "\(text) is a multicast address; a NIC needs a unicast MAC") }
                    else if mac.bytes == [0, 0, 0, 0, 0, 0] { c.issue("\(field).mac", "\(text) is the zero address") }
                    else if let other = macs[mac] { c.issue("\(field).mac", "\(text) is already used by \(other)") }
                    else { macs[mac] = field }
                } else {
                    c.issue("\(field).mac", "'\(text)' is not a MAC address like 02:56:50:00:00:01")
                }
            }
            if let text = nic.ip {
                if let ip = IPv4Address(text) {
                    if let subnet = c.subnets[nic.vlan], !subnet.containsHost(ip) {
                        c.issue("\(field).ip", "\(text) is not a host address of VLAN '\(nic.vlan)' (\(subnet))")
                    } else { c.claimIP(ip, "\(field).ip") }
                } else { c.issue("\(field).ip", "'\(text)' is not an IPv4 address") }
            }
        }
    }

    /// Disk targets valid and unique in the personality; each volume defined and mapped to one personality.
    private static func checkDisks(_ c: ValidationContext, of person: PersonalityDef, base: String,
                                   volumeOwners: inout [String: String]) {
        var targets: Set<String> = []
        for (j, disk) in (person.disks ?? []).enumerated() {
            let field = "\(base).disks[\(j)]"
            if !isValidTarget(disk.target) { c.issue("\(field).target", "'\(disk.target)' is not a disk target like vdb (virtio) or sda (SCSI)") }
            else if !targets.insert(disk.target).inserted { c.issue("\(field).target", "target '\(disk.target)' is used twice in personality '\(person.name)'") }
            if !c.volumes.contains(disk.volume) { c.issue("\(field).volume", "unknown volume '\(disk.volume)' (write pool/volume)") }
            else if let owner = volumeOwners[disk.volume] {
                c.issue("\(field).volume", "volume '\(disk.volume)' is already mapped to personality '\(owner)'; a volume has one writer")
            } else { volumeOwners[disk.volume] = person.name }
        }
    }
}
