import Foundation
import PlatformModel
import Testing

@Suite struct ValidationTests {
    @Test func theFixtureIsValid() throws {
        #expect(try issues(validYAML).isEmpty)
    }

    /// Each case: (what to replace, replacement, field reported, words in the message).
    static let rules: [(String, String, String, String)] = [
        ("mac: \"02:56:50:00:02:20\"", "mac: \"02:56:50:00:02\"", "personalities[1].nics[0].mac", "is not a MAC address"),
        ("mac: \"02:56:50:00:02:20\"", "mac: \"03:56:50:00:02:20\"", "personalities[1].nics[0].mac", "multicast"),
        ("{ vlan: front, ip: 10.40.1.10 }", "{ vlan: front, ip: 10.40.1.10, mac: \"02:56:50:00:02:20\" }", "personalities[1].nics[0].mac", "already used"),
        ("platform: t\n", "platform: t\nmacPrefix: \"00:16:3e\"\n", "macPrefix", "not locally administered"),
        ("platform: t\n", "platform: t\nmacPrefix: \"03:16:3e\"\n", "macPrefix", "multicast"),
        ("id: 200", "id: 4095", "vlans[1].id", "outside 1–4094"),
        ("id: 200", "id: 0", "vlans[1].id", "outside 1–4094"),
        ("id: 200", "id: 100", "vlans[1].id", "already used"),
        ("ip: 10.40.2.20", "ip: 10.40.1.20", "personalities[1].nics[0].ip", "is not a host address of VLAN 'back'"),
        ("ip: 10.40.2.20", "ip: 10.40.2.255", "personalities[1].nics[0].ip", "is not a host address"),
        ("ip: 10.40.1.10", "ip: 10.40.1.1", "personalities[0].nics[0].ip", "already used"),
        ("volume: t-data/v2", "volume: t-data/v1", "personalities[1].disks[0].volume", "already mapped to personality 'web'"),
        ("volume: t-data/v2", "volume: t-data/nope", "personalities[1].disks[0].volume", "unknown volume"),
        ("{ vlan: back, mac", "{ vlan: middle, mac", "personalities[1].nics[0].vlan", "unknown VLAN 'middle'"),
        ("{ name: t-p3, host: local }", "{ name: t-p3, host: elsewhere }", "processors.members[2].host", "unknown host 'elsewhere'"),
        ("members: [web]", "members: [web, cache]", "services[0].members[1]", "unknown personality 'cache'"),
        ("subnet: 10.40.2.0/24", "subnet: 10.40.2.0/33", "vlans[1].subnet", "is not an IPv4 subnet"),
        ("subnet: 10.40.2.0/24", "subnet: 10.40.1.128/25", "vlans[1].subnet", "overlaps"),
        ("    id: 200\n", "    id: 200\n    bridge: a-bridge-name-too-long\n", "vlans[1].bridge", "at most 15 characters"),
        ("{ name: t-p3, host: local }", "{ name: \"t/p3\", host: local }", "processors.members[2].name", "is not valid"),
        ("{ name: t-p3, host: local }", "{ name: t-p2, host: local }", "processors.members[2].name", "defined twice"),
        ("target: vdb, volume: t-data/v1", "target: hda, volume: t-data/v1", "personalities[0].disks[0].target", "not a disk target"),
        ("count: 1", "count: 2", "standby.count", "only 1 processors carry no personality"),
        ("port: 80", "port: 70000", "services[0].port", "outside 1–65535"),
        ("address: 10.40.9.1", "address: 10.40.1.77", "services[0].address", "lies in the subnet of VLAN 'front'"),
        ("members: [web] }", "members: [web], vlan: middle }", "services[0].vlan", "VLAN 'middle' is not defined"),
        ("members: [web] }", "members: [web, db], vlan: front }", "services[0].vlan", "member 'db' has no NIC on VLAN 'front'"),
        ("members: [web] }", "members: [web, web] }", "services[0].members[1]", "defined twice"),
        ("members: [web] }", "members: [web], tableSize: 65536 }", "services[0].tableSize", "not a prime"),
        ("members: [web] }", "members: [web], weights: { db: 2 } }", "services[0].weights.db", "not a member of service 'web'"),
        ("members: [web] }", "members: [web], weights: { web: 0 } }", "services[0].weights.web", "outside 1–1000"),
        ("members: [web] }", "members: [web], networkPriority: { middle: 1 } }", "services[0].networkPriority.middle", "VLAN 'middle' is not defined"),
        ("members: [web] }", "members: [web] }\n  - { name: web2, address: 10.40.9.2, port: 80, protocol: tcp, members: [web], vlan: back }",
         "services[1].vlan", "would serve services on different VLANs"),
        ("capacity: 64MiB }\n        - { name: v2", "capacity: lots }\n        - { name: v2", "storage.pools[0].volumes[0].capacity", "not a size"),
        ("{ vlan: back }", "{ vlan: front }", "personalities[0].nics[1].vlan", "already has a NIC on VLAN 'front'"),
        ("    uri: test:///default", "    uri: nonsense", "hosts[0].uri", "not a libvirt URI"),
        ("classOfService: [back, front]", "classOfService: [back, middle]", "failover.classOfService[1]", "VLAN 'middle' is not defined"),
        ("timeoutMs: 40", "timeoutMs: 100", "failover.heartbeat.timeoutMs", "shorter than the interval"),
        ("threshold: 3", "threshold: 0", "failover.heartbeat.threshold", "outside 1…100"),
        ("intervalMs: 100", "intervalMs: 5", "failover.heartbeat.intervalMs", "outside 10…10000"),
    ]

    @Test(arguments: rules.indices)
    func eachRuleIsReportedWithFieldAndLine(_ index: Int) throws {
        let (old, new, field, words) = Self.rules[index]
        let text = yaml(replacing: old, with: new)
        let found = try issues(text)
        let hit = found.first { $0.field == field && $0.message.contains(words) }
        #expect(hit != nil, "expected \(field): …\(words)…, got \(found.map(\.description))")
        #expect(hit?.line != nil)
        #expect(hit?.description.hasPrefix("t.yaml:") == true)
    }

    @Test func morePersonalitiesThanProcessors() throws {
        let text = yaml(replacing: "    - { name: t-p2, host: local }\n    - { name: t-p3, host: local }\n", with: "")
        let found = try issues(text)
        #expect(found.contains { $0.field == "personalities" && $0.message.contains("2 personalities but only 1 processors") })
    }

    @Test func everyProblemIsReportedAtOnceWithItsLine() throws {
        let text = yaml(replacing: "id: 200", with: "id: 5000").replacingOccurrences(of: "port: 80", with: "port: 0")
        let found = try issues(text)
        #expect(found.count == 2)
        #expect(found[0].line == lineOf("id: 5000", in: text))
        #expect(found[0].description == "t.yaml:\(lineOf("id: 5000", in: text)): vlans[1].id: 802.1Q id 5000 is outside 1–4094")
        #expect(found[1].field == "services[0].port")
    }

    @Test func yamlSyntaxErrorsNameTheLine() throws {
        let text = yaml(replacing: "  vcpus: 1", with: "  vcpus: [1")
        let found = try issues(text)
        #expect(found.count == 1)
        #expect(found[0].message.hasPrefix("invalid YAML"))
        #expect(found[0].line != nil)
    }

    @Test func missingAndMistypedFieldsNameTheField() throws {
        let missing = try issues(yaml(replacing: "    subnet: 10.40.2.0/24\n", with: ""))
        #expect(missing.map(\.field) == ["vlans[1].subnet"])
        #expect(missing.first?.message == "required field is missing")
        let mistyped = try issues(yaml(replacing: "id: 200", with: "id: two"))
        #expect(mistyped.map(\.field) == ["vlans[1].id"])
        #expect(mistyped.first?.message == "expected an integer")
        #expect(mistyped.first?.line == lineOf("id: two", in: yaml(replacing: "id: 200", with: "id: two")))
    }
}

/// A pool's directory is where `destroy` deletes volumes: never a directory where others keep data.
@Suite struct PoolPathTests {
    static let refused: [(String, String)] = [
        ("/", "system directory"), ("/etc", "system directory"), ("/etc/vp", "inside the system directory /etc"),
        ("/usr/local/vp", "inside the system directory /usr"), ("/bin", "system directory"), ("/sbin/x", "/sbin"),
        ("/lib", "system directory"), ("/lib64/vp", "/lib64"), ("/libx32", "system directory"), ("/boot/vp", "/boot"),
        ("/dev/shm/vp", "/dev"), ("/proc/1", "/proc"), ("/sys/vp", "/sys"), ("/run/vp", "/run"), ("/var/run/vp", "/var/run"),
        ("/var", "shared directory"), ("/var/lib", "shared directory"), ("/var/lib/libvirt", "libvirt"),
        ("/var/lib/libvirt/images", "libvirt"), ("/var/lib/libvirt/images/t", "libvirt"),
        ("/home", "shared directory"), ("/home/alice", "home directory"), ("/root", "home directory"),
        ("/tmp", "world-writable"), ("/tmp/vp", "world-writable"), ("/var/tmp/vp", "world-writable"),
        ("/var/lib/virtualplatform", "the platforms' directory"), ("/var/lib/virtualplatform/t", "state directory of this platform"),
        ("/var/lib/virtualplatform/t/console", "console logs"),
        ("/var/lib/virtualplatform/other", "platform 'other'"), ("/var/lib/virtualplatform/other/pool", "platform 'other'"),
        ("/var/lib/virtualplatform/images", "processor image"), ("/var/lib/virtualplatform/images/processor/x", "processor image"),
        ("/vp-test/../etc", "'..'"), ("/vp-test//t-data", "write '/vp-test/t-data'"), ("/vp-test/t-data/", "write '/vp-test/t-data'"),
        ("/vp-test/./t-data", "write '/vp-test/t-data'"), ("vp-test/t-data", "absolute"),
    ]

    @Test(arguments: refused.indices)
    func systemAndSharedDirectoriesAreRefused(_ index: Int) throws {
        let (path, words) = Self.refused[index]
        let found = try issues(yaml(replacing: "path: /vp-test/t-data", with: "path: \"\(path)\""))
        let hit = found.first { $0.field == "storage.pools[0].path" && $0.message.contains(words) }
        #expect(hit != nil, "\(path): expected …\(words)…, got \(found.map(\.description))")
        #expect(hit?.line != nil)
    }

    @Test(arguments: ["/vp-test/t-data", "/var/lib/virtualplatform/t/pool", "/srv/vp/t", "/home/alice/vp-pool", "/data"])
    func ownDirectoriesAreAccepted(_ path: String) throws {
        #expect(try issues(yaml(replacing: "path: /vp-test/t-data", with: "path: \(path)")).map(\.description) == [])
    }

    @Test func theProcessorImageDirectoryIsRefusedWhereverItIs() throws {
        let text = yaml(replacing: "  memoryMiB: 128", with: "  memoryMiB: 128\n  image: /srv/images")
            .replacingOccurrences(of: "path: /vp-test/t-data", with: "path: /srv/images/pool")
        #expect(try issues(text).map(\.message) == ["'/srv/images/pool' is inside the processor image directory /srv/images"])
    }

    static let secondPool = """
        - name: t-more
          host: HOST
          path: PATH
          volumes: [{ name: v3, capacity: 1MiB }]
    personalities:
    """

    @Test(arguments: ["/vp-test/t-data", "/vp-test/t-data/inner", "/vp-test"])
    func poolsOnOneHostMayNotShareOrNestDirectories(_ path: String) throws {
        let more = Self.secondPool.replacingOccurrences(of: "HOST", with: "local").replacingOccurrences(of: "PATH", with: path)
        let found = try issues(yaml(replacing: "personalities:\n", with: more + "\n"))
        #expect(found.map(\.field) == ["storage.pools[1].path"])
        #expect(found.first?.message.contains("storage pool 't-data'") == true, "\(found)")
    }

    @Test func poolsOnDifferentHostsMayUseTheSamePath() throws {
        let more = Self.secondPool.replacingOccurrences(of: "HOST", with: "other").replacingOccurrences(of: "PATH", with: "/vp-test/t-data")
        let text = yaml(replacing: "personalities:\n", with: more + "\n")
            .replacingOccurrences(of: "    uri: test:///default\n", with: "    uri: test:///default\n  - { name: other, uri: \"test:///default\" }\n")
        #expect(try issues(text).map(\.description) == [])
    }
}

/// Sizes that would overflow or make no sense are refused before anything is touched.
@Suite struct SizeValidationTests {
    static let refused: [(String, String, String, String)] = [
        ("  memoryMiB: 128", "  memoryMiB: 1000000000000", "processors.memoryMiB", "at most \(Validator.maxMemoryMiB) MiB"),
        ("  memoryMiB: 128", "  memoryMiB: -1", "processors.memoryMiB", "too small"),
        ("  vcpus: 1", "  vcpus: 9223372036854775807", "processors.vcpus", "outside 1–64"),
        ("{ name: v1, capacity: 64MiB }", "{ name: v1, capacity: 0MiB }", "storage.pools[0].volumes[0].capacity", "larger than 0"),
        ("{ name: v1, capacity: 64MiB }", "{ name: v1, capacity: 16777216TiB }", "storage.pools[0].volumes[0].capacity", "too large"),
        ("{ name: v1, capacity: 64MiB }", "{ name: v1, capacity: 99999999999999999999B }", "storage.pools[0].volumes[0].capacity", "too large"),
        ("{ name: v1, capacity: 64MiB }", "{ name: v1, capacity: 2048TiB }", "storage.pools[0].volumes[0].capacity", "at most 1024TiB"),
        ("{ name: v1, capacity: 64MiB }", "{ name: v1, capacity: 64 MiB }", "storage.pools[0].volumes[0].capacity", "not a size"),
        ("{ name: v1, capacity: 64MiB }", "{ name: v1, capacity: -64MiB }", "storage.pools[0].volumes[0].capacity", "not a size"),
        ("{ name: v1, capacity: 64MiB }", "{ name: v1, capacity: +64MiB }", "storage.pools[0].volumes[0].capacity", "not a size"),
        ("{ name: v1, capacity: 64MiB }\n        - { name: v2, capacity: 64MiB, format: qcow2 }",
         "{ name: v1, capacity: 1000TiB }\n        - { name: v2, capacity: 1000TiB, format: qcow2 }", "storage.pools[0].volumes[1].capacity", "the pool's volumes add up"),
    ]

    @Test(arguments: refused.indices)
    func absurdSizesAreRefused(_ index: Int) throws {
        let (old, new, field, words) = Self.refused[index]
        let found = try issues(yaml(replacing: old, with: new))
        #expect(found.contains { $0.field == field && $0.message.contains(words) }, "expected \(field): …\(words)…, got \(found.map(\.description))")
    }

    @Test func timeoutsHaveAnUpperBound() throws {
        let found = try issues(yaml(replacing: "  classOfService: [back, front]", with: "  classOfService: [back, front]\n  confirmTimeoutSeconds: 9223372036854775807"))
        #expect(found.map(\.field) == ["failover.confirmTimeoutSeconds"])
    }

    @Test func byteSizesParseWithOverflowChecks() {
        #expect(ByteSize.parse("64MiB") == 64 << 20)
        #expect(ByteSize.parse("16383PiB") == nil)
        #expect(ByteSize.parse("16777215TiB") == 16_777_215 << 40)
        #expect(ByteSize.parse("16777216TiB") == nil)
        #expect(ByteSize.parse("18446744073709551615B") == UInt64.max)
        #expect(ByteSize.parse("18446744073709551616B") == nil)
        #expect(ByteSize.parse("0B") == nil)
        #expect(ByteSize.parse("+1B") == nil)
        #expect(ByteSize.parse("MiB") == nil)
    }
}

@Suite struct ExampleDefinitionTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("platform-config")

    @Test(arguments: ["demo.yaml", "datacenter.yaml"])
    func examplesAreValid(_ name: String) throws {
        let loaded = try PlatformLoader.load(path: Self.directory.appendingPathComponent(name).path)
        #expect(Validator.validate(loaded).map(\.description) == [])
    }
}
