import Foundation
import PlatformModel
import Testing

/// A definition that would take minutes or all memory to load is refused with the limit it broke.
@Suite struct LoaderLimitsTests {
    /// The "billion laughs": 9 levels of 10 aliases each, 10⁹ scalars once expanded.
    static func aliasBomb(levels: Int = 9, asKey: String? = nil) -> String {
        let names = (0..<levels).map { String(UnicodeScalar(UInt8(ascii: "a") + UInt8($0))) }
        var text = "\(names[0]): &\(names[0]) [" + Array(repeating: "\"lol\"", count: 10).joined(separator: ", ") + "]\n"
        for (previous, name) in zip(names, names.dropFirst()) {
            text += "\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 10).joined(separator: ", ") + "]\n"
        }
        if let asKey { text += asKey.replacingOccurrences(of: "LAST", with: names.last!) + "\n" }
        return text
    }

    @Test(.timeLimit(.minutes(1)))
    func anAliasBombIsRefusedNamingTheLimit() throws {
        let found = try issues(Self.aliasBomb())
        #expect(found.count == 1)
        #expect(found.first?.message.contains("more than \(PlatformLoader.Limits.maxNodes) nodes once its aliases are expanded") == true,
                "\(found)")
    }

    @Test(.timeLimit(.minutes(1)), arguments: ["? *LAST\n: 1", "[*LAST]: 1", "*LAST : 1", "{ *LAST : 1 }: 2"])
    func anAliasBombUsedAsAKeyIsRefusedBeforeParsing(_ key: String) throws {
        let text = Self.aliasBomb(asKey: key)
        let found = try issues(text)
        #expect(found.count == 1)
        #expect(found.first?.message.contains("complex mapping key") == true, "\(found)")
        #expect(found.first?.line == text.split(separator: "\n").count - (key.contains("\n") ? 1 : 0))
    }

    @Test func quotedTextAndCommentsAreNotTakenForKeys() throws {
        let text = yaml(replacing: "platform: t\n", with: "platform: t   # ? [x]: y, *a : b\n")
            .replacingOccurrences(of: "{ name: v1, capacity: 64MiB }", with: "{ name: \"v1\", capacity: '64MiB' } # ]: ?")
        #expect(try issues(text).map(\.description) == [])
    }

    @Test func deepNestingIsRefusedNamingTheLimit() throws {
        for depth in [PlatformLoader.Limits.maxDepth + 1, 5_000] {
            let text = yaml(replacing: "  mode: hot", with: "  mode: " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth))
            let found = try issues(text)
            #expect(found.count == 1)
            #expect(found.first?.message.contains("nested more than \(PlatformLoader.Limits.maxDepth) levels deep") == true, "\(found)")
            #expect(found.first?.line == lineOf("  mode: [", in: text))
        }
    }

    @Test func anOversizedTextIsRefusedNamingTheLimit() throws {
        let text = validYAML + "\n#" + String(repeating: "x", count: PlatformLoader.Limits.maxFileBytes)
        let found = try issues(text)
        #expect(found.map(\.message) == ["the file is larger than \(PlatformLoader.Limits.maxFileBytes) bytes, the limit for a platform definition"])
    }

    @Test func anOversizedFileIsRefusedWithoutReadingIt() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("vp-big-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(count: PlatformLoader.Limits.maxFileBytes + 1).write(to: file)
        #expect(throws: ConfigErrors.self) { try PlatformLoader.load(path: file.path) }
        do { _ = try PlatformLoader.load(path: file.path) } catch let errors as ConfigErrors {
            #expect(errors.issues.map(\.message) == ["the file is larger than \(PlatformLoader.Limits.maxFileBytes) bytes, the limit for a platform definition"])
        }
        // Not a regular file: a device would be read forever.
        #expect(throws: ConfigErrors.self) { try PlatformLoader.load(path: "/dev/zero") }
    }

    /// Inside the node limit, aliases still make long lists cheaply: 10,000 VLANs from 40 KB. More
    /// VLANs than 802.1Q ids are refused by their count, and every check stays linear.
    @Test(.timeLimit(.minutes(1)))
    func longListsMadeWithAliasesAreCheckedInLinearTime() throws {
        let many = Array(repeating: "*v", count: 10_000).joined(separator: ", ")
        let vlans = "  - name: front\n    id: 100\n    subnet: 10.40.1.0/24\n  - name: back\n    id: 200\n    subnet: 10.40.2.0/24\n"
        let text = yaml(replacing: "vlans:\n" + vlans, with: "vlans: [{ name: front, id: 100, subnet: 10.40.1.0/24 }, "
                        + "{ name: back, id: 200, subnet: 10.40.2.0/24 }, &v { name: x, id: 1, subnet: 10.9.0.0/24 }, \(many)]\n")
        let found = try issues(text)
        #expect(found.contains { $0.field == "vlans" && $0.message == "10003 VLANs, but 802.1Q has only 4094 ids" }, "\(found.prefix(3))")
    }

    /// The limits leave room for the largest platform we plan for: 1,000 processors (`vp-bench control-plane`).
    @Test func aThousandProcessorPlatformIsWellInsideTheLimits() throws {
        var y = "platform: big\nhosts:\n  - { name: local, uri: \"test:///default\" }\nprocessors:\n  vcpus: 1\n  memoryMiB: 128\n  members:\n"
        for i in 0..<1000 { y += "    - { name: big-p\(i), host: local }\n" }
        y += "vlans:\n" + (0..<4).map { "  - { name: v\($0), id: \($0 + 1), subnet: 10.100.\($0 * 4).0/22 }\n" }.joined()
        y += "storage:\n  pools:\n    - name: big-pool\n      host: local\n      path: /vp-bench/big\n      volumes:\n"
        for v in 0..<1800 { y += "        - { name: vol\(v), capacity: 8MiB, format: raw }\n" }
        y += "personalities:\n"
        for i in 0..<900 {
            y += "  - name: s\(i)\n    nics:\n      - { vlan: v\(i % 4), mac: auto }\n      - { vlan: v\((i + 1) % 4) }\n"
            y += "    disks:\n      - { target: vdb, volume: big-pool/vol\(2 * i) }\n      - { target: vdc, volume: big-pool/vol\(2 * i + 1) }\n"
        }
        #expect(y.utf8.count * 10 < PlatformLoader.Limits.maxFileBytes)
        let loaded = try PlatformLoader.parse(y, file: "big.yaml")
        #expect(loaded.definition.processors.members.count == 1000)
        #expect(loaded.nodeCount * 10 < PlatformLoader.Limits.maxNodes)
        #expect(Validator.validate(loaded).map(\.description) == [])
    }
}
