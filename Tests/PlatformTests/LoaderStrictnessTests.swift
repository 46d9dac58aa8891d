import Foundation
import PlatformModel
import Testing

/// Keys the model does not know are errors, and YAML 1.1's implicit types never change a value silently.
@Suite struct UnknownKeyTests {
    @Test func aTypoOfAnOptionalSectionIsAnErrorWithASuggestion() throws {
        let text = yaml(replacing: "standby:\n  mode: hot", with: "standbys:\n  mode: hot")
        let found = try issues(text)
        #expect(found.map(\.description) == ["t.yaml:\(lineOf("standbys:", in: text)): standbys: unknown key 'standbys' (did you mean 'standby'?)"])
    }

    @Test func unknownKeysAreFoundAtEveryDepth() throws {
        let text = yaml(replacing: "  memoryMiB: 128", with: "  memoryMib: 128")
            .replacingOccurrences(of: "{ name: t-p3, host: local }", with: "{ name: t-p3, host: local, cpu: 2 }")
            .replacingOccurrences(of: "threshold: 3 }", with: "threshold: 3, treshold: 4 }")
            .replacingOccurrences(of: "- { name: v1, capacity: 64MiB }", with: "- { name: v1, capacity: 64MiB, fromat: raw }")
        let found = try issues(text)
        let byField = Dictionary(uniqueKeysWithValues: found.map { ($0.field, $0.message) })
        #expect(byField["processors.memoryMib"] == "unknown key 'memoryMib' (did you mean 'memoryMiB'?)")
        #expect(byField["processors.members[2].cpu"]?.hasPrefix("unknown key 'cpu'") == true)
        #expect(byField["failover.heartbeat.treshold"] == "unknown key 'treshold' (did you mean 'threshold'?)")
        #expect(byField["storage.pools[0].volumes[0].fromat"] == "unknown key 'fromat' (did you mean 'format'?)")
        // The misspelt required field is reported missing too, in the same run.
        #expect(byField["processors.memoryMiB"] == "required field is missing")
        #expect(found.allSatisfy { $0.line != nil })
    }

    @Test func aQuotedKeyIsThatWordAndATaggedOneIsAnotherKey() throws {
        // As in Yams' own lookup (the loader looks each mapping's keys up once, in a table of its own).
        #expect(try issues(yaml(replacing: "  memoryMiB: 128", with: "  \"memoryMiB\": 128")).isEmpty)
        let tagged = try issues(yaml(replacing: "  memoryMiB: 128", with: "  !!int memoryMiB: 128"))
        #expect(tagged.map(\.field) == ["processors.memoryMiB"])
        #expect(tagged.first?.message == "required field is missing")
    }

    @Test func aKeyWithNothingCloseListsTheKnownOnes() throws {
        let found = try issues(yaml(replacing: "  mode: hot", with: "  mode: hot\n  colour: blue"))
        #expect(found.count == 1)
        #expect(found.first?.field == "standby.colour")
        #expect(found.first?.message == "unknown key 'colour'; known keys here: count, mode, preferSameHost")
    }

    @Test func renamedCodingKeysAndFreeFormMappingsAreAccepted() throws {
        let text = yaml(replacing: "    uri: test:///default", with: "    uri: test:///default\n    switch: linux-bridge")
            .replacingOccurrences(of: "members: [web] }", with: "members: [web], weights: { web: 3 }, networkPriority: { front: 2 } }")
        #expect(try issues(text).map(\.description) == [])
    }

    @Test func mergeKeysAreNotSilentlyApplied() throws {
        let found = try issues(yaml(replacing: "standby:\n  mode: hot", with: "standby:\n  <<: { mode: cold }\n  mode: hot"))
        #expect(found.map(\.field) == ["standby.<<"])
        #expect(found.first?.message.contains("merge keys") == true)
    }
}

@Suite struct YAMLTrapTests {
    /// (replace, with, field, words): YAML 1.1 would read each of these as something else than what is written.
    static let errors: [(String, String, String, String)] = [
        ("id: 200", "id: 0200", "vlans[1].id", "leading zero"),
        ("port: 80", "port: 1:20", "services[0].port", "base 60"),
        ("id: 200", "id: 0x10", "vlans[1].id", "decimal"),
        ("id: 200", "id: 0o10", "vlans[1].id", "decimal"),
        ("  memoryMiB: 128", "  memoryMiB: 1_024", "processors.memoryMiB", "'_'"),
        ("port: 80", "port: .inf", "services[0].port", "expected an integer"),
        ("port: 80", "port: 8e1", "services[0].port", "expected an integer"),
        ("port: 80", "port: \"80\"", "services[0].port", "quoted"),
        ("  memoryMiB: 128", "  memoryMiB: 99999999999999999999", "processors.memoryMiB", "too large"),
        ("id: 200", "id: !!str 200", "vlans[1].id", "tag"),
        ("  count: 1", "  count: 1\n  preferSameHost: yes", "standby.preferSameHost", "write true or false"),
        ("  count: 1", "  count: 1\n  preferSameHost: off", "standby.preferSameHost", "write true or false"),
        ("  count: 1", "  count: 1\n  preferSameHost: Y", "standby.preferSameHost", "write true or false"),
        ("    subnet: 10.40.2.0/24", "    subnet: ~", "vlans[1].subnet", "expected a string, found nothing"),
    ]

    @Test(arguments: errors.indices)
    func trapsAreErrorsNamingTheField(_ index: Int) throws {
        let (old, new, field, words) = Self.errors[index]
        let text = yaml(replacing: old, with: new)
        let found = try issues(text)
        let hit = found.first { $0.field == field && $0.message.contains(words) }
        #expect(hit != nil, "expected \(field): …\(words)…, got \(found.map(\.description))")
        #expect(hit?.line == lineOf(String(new.split(separator: "\n").last!), in: text))
    }

    @Test func stringsAreReadExactlyAsWritten() throws {
        // YAML 1.1 reads these as the integer 64, base-60 22338618340, the boolean true and infinity.
        let text = yaml(replacing: "platform: t\n", with: "platform: 0100\n")
            .replacingOccurrences(of: "mac: \"02:56:50:00:02:20\"", with: "mac: 02:56:50:00:02:20")
            .replacingOccurrences(of: "- name: back\n", with: "- name: on\n")
            .replacingOccurrences(of: "{ vlan: back", with: "{ vlan: on")
            .replacingOccurrences(of: "classOfService: [back, front]", with: "classOfService: [on, front]")
            .replacingOccurrences(of: "{ name: v2, capacity: 64MiB, format: qcow2 }", with: "{ name: .inf, capacity: 64MiB, format: qcow2 }")
            .replacingOccurrences(of: "t-data/v2", with: "t-data/.inf")
        let loaded = try PlatformLoader.parse(text, file: "t.yaml")
        #expect(loaded.definition.platform == "0100")
        #expect(loaded.definition.personalities[1].nics[0].mac == "02:56:50:00:02:20")
        #expect(loaded.definition.vlans[1].name == "on")
        #expect(loaded.definition.storage?.pools[0].volumes[1].name == ".inf")
    }

    @Test func nullMeansAbsentForOptionalFields() throws {
        let loaded = try PlatformLoader.parse(yaml(replacing: "mac: \"02:56:50:00:02:20\"", with: "mac: ~"), file: "t.yaml")
        #expect(loaded.definition.personalities[1].nics[0].mac == nil)
    }

    @Test func plainIntegersAndBooleansAreRead() throws {
        let loaded = try PlatformLoader.parse(yaml(replacing: "  count: 1", with: "  count: +1\n  preferSameHost: false"), file: "t.yaml")
        #expect(loaded.definition.standby?.count == 1)
        #expect(loaded.definition.standby?.preferSameHost == false)
    }
}
