// The rules for the platform's name, MAC prefix, hosts and processor pool.
extension Validator {
    static func checkPlatformName(_ c: ValidationContext) {
        c.checkName("platform", c.p.platform, "platform")
    }

    /// The prefix of allocated MACs: unicast and locally administered.
    static func checkMACPrefix(_ c: ValidationContext) {
        let p = c.p
        guard p.macPrefix != nil else { return }
        let prefix = p.effectiveMACPrefix
        if let bytes = MACAddress(prefix + ":00:00:00") {
            if bytes.isMulticast { c.issue("macPrefix", "'\(prefix)' is a multicast prefix; allocated MACs must be unicast") }
            if !bytes.isLocallyAdministered { c.issue("macPrefix", "'\(prefix)' is not locally administered (set bit 0x02 of the first byte, e.g. 02:…)") }
        } else {
            c.issue("macPrefix", "'\(prefix)' is not a 3-byte MAC prefix like 02:56:50")
        }
    }

    static func checkHosts(_ c: ValidationContext) {
        let hostNames = c.p.hosts.map(\.name)
        c.hostNames = Set(hostNames)
        if c.p.hosts.isEmpty { c.issue("hosts", "at least one host is needed") }
        c.checkUnique(hostNames, { "hosts[\($0)].name" }, "host")
        for (i, host) in c.p.hosts.enumerated() {
            c.checkName("hosts[\(i)].name", host.name, "host")
            if !host.uri.contains(":") { c.issue("hosts[\(i)].uri", "'\(host.uri)' is not a libvirt URI (e.g. qemu:///system)") }
        }
    }

    static func checkProcessors(_ c: ValidationContext) {
        let pool = c.p.processors
        if pool.vcpus < 1 || pool.vcpus > 64 { c.issue("processors.vcpus", "\(pool.vcpus) is outside 1–64") }
        if pool.memoryMiB < 64 { c.issue("processors.memoryMiB", "\(pool.memoryMiB) MiB is too small (at least 64)") }
        if pool.memoryMiB > maxMemoryMiB {
            c.issue("processors.memoryMiB", "\(pool.memoryMiB) MiB is too large: at most \(maxMemoryMiB) MiB (16 TiB)")
        }
        c.checkUnique(pool.members.map(\.name), { "processors.members[\($0)].name" }, "processor")
        for (i, proc) in pool.members.enumerated() {
            c.checkName("processors.members[\(i)].name", proc.name, "processor")
            if !c.hostNames.contains(proc.host) { c.issue("processors.members[\(i)].host", "unknown host '\(proc.host)'") }
        }
    }

    /// Storage pools and volumes (Validator+Storage.swift); the volumes found serve `checkPersonalities`.
    static func checkStorage(_ c: ValidationContext) {
        c.volumes = storageIssues(c.p, hostNames: c.hostNames, issue: c.issue, checkName: c.checkName, checkUnique: c.checkUnique)
    }
}
