import Foundation
import PlatformModel
import Testing

/// A field that takes one of a few words is decoded into its enum: any other word is refused by
/// the loader, naming the field, the word and the words it accepts, with the line.
@Suite struct ChoiceDecodingTests {
    /// (what to replace, replacement, field reported, message).
    static let wrongWords: [(String, String, String, String)] = [
        ("    uri: test:///default", "    uri: test:///default\n    domainType: xen", "hosts[0].domainType", "'xen' is not one of auto, qemu, kvm"),
        ("    uri: test:///default", "    uri: test:///default\n    switch: ovs", "hosts[0].switch", "'ovs' is not one of linux-bridge, openvswitch"),
        ("    id: 200\n", "    id: 200\n    mode: nat\n", "vlans[1].mode", "'nat' is not one of isolated, routed"),
        ("      path: /vp-test/t-data", "      path: /vp-test/t-data\n      type: iscsi", "storage.pools[0].type", "'iscsi' is not one of dir"),
        ("format: qcow2", "format: vmdk", "storage.pools[0].volumes[1].format", "'vmdk' is not one of raw, qcow2"),
        ("  mode: hot", "  mode: warm", "standby.mode", "'warm' is not one of hot, cold"),
        ("protocol: tcp", "protocol: sctp", "services[0].protocol", "'sctp' is not one of tcp, udp"),
        ("members: [web] }", "members: [web], healthCheck: { type: ping } }", "services[0].healthCheck.type", "'ping' is not one of tcp, http"),
    ]

    @Test(arguments: wrongWords.indices)
    func aWrongWordIsRefusedNamingTheFieldAndTheWords(_ index: Int) throws {
        let (old, new, field, message) = Self.wrongWords[index]
        let text = yaml(replacing: old, with: new)
        #expect {
            try PlatformLoader.parse(text, file: "t.yaml")
        } throws: { error in
            guard let errors = error as? ConfigErrors else { return false }
            let line = lineOf(String(new.split(separator: "\n").last!), in: text)
            return errors.issues.map(\.description) == ["t.yaml:\(line): \(field): \(message)"]
        }
    }

    @Test func wrongWordsAreReportedAtOnceWithTheOtherDecodingProblems() throws {
        let text = yaml(replacing: "  mode: hot", with: "  mode: warm")
            .replacingOccurrences(of: "protocol: tcp", with: "protocol: sctp")
            .replacingOccurrences(of: "  memoryMiB: 128", with: "  memoryMib: 128")
        let found = try issues(text)
        #expect(Set(found.map(\.field)) == ["standby.mode", "services[0].protocol", "processors.memoryMib", "processors.memoryMiB"])
    }

    @Test func aChoiceThatIsNotAWordIsReportedOnce() throws {
        let text = yaml(replacing: "  mode: hot", with: "  mode: [hot]")
        #expect(try issues(text).map(\.description) == ["t.yaml:\(lineOf("  mode: [hot]", in: text)): standby.mode: expected a string"])
    }

    @Test func theWordsAreReadIntoTheirEnums() throws {
        let text = yaml(replacing: "  mode: hot", with: "  mode: cold")
            .replacingOccurrences(of: "    uri: test:///default", with: "    uri: test:///default\n    domainType: qemu\n    switch: openvswitch")
            .replacingOccurrences(of: "    id: 200\n", with: "    id: 200\n    mode: routed\n")
            .replacingOccurrences(of: "protocol: tcp", with: "protocol: udp")
        let p = try PlatformLoader.parse(text, file: "t.yaml").definition
        #expect(p.standbyMode == .cold)
        #expect(p.hosts[0].domainType == .qemu && p.hosts[0].switchKind == .openvswitch)
        #expect(p.vlans.map(\.vlanMode) == [.isolated, .routed])
        #expect(p.storage?.pools[0].volumes.map(\.format) == [nil, .qcow2])
        #expect(p.services?[0].transport == .udp)
        // Interpolated, a choice reads as the word of the file.
        #expect("\(p.hosts[0].switchKind) \(SwitchType.linuxBridge)" == "openvswitch linux-bridge")
    }

    @Test func otherDecodersRefuseAWrongWordToo() throws {
        let json = Data(#"{ "mode": "warm" }"#.utf8)
        #expect {
            try JSONDecoder().decode(StandbyPolicyDef.self, from: json)
        } throws: { error in
            guard case DecodingError.dataCorrupted(let context) = error else { return false }
            return context.debugDescription == "'warm' is not one of hot, cold" && context.codingPath.map(\.stringValue) == ["mode"]
        }
    }
}
