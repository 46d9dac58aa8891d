@testable import Failover
import Foundation
import PlatformModel
import StateStore
import Testing
import TestSupport

struct StandbyChooserTests {
    func view(preferSameHost: Bool = true, failed: Set<String> = []) throws -> PlatformView {
        let yaml = """
        platform: choose
        hosts: [{ name: a, uri: "test:///default" }, { name: b, uri: "test:///default" }]
        processors:
          vcpus: 1
          memoryMiB: 64
          members: [{ name: p1, host: a }, { name: p2, host: b }, { name: p3, host: b }, { name: p4, host: a }, { name: p5, host: a }]
        vlans: [{ name: v, id: 10, subnet: 10.9.0.0/24 }]
        personalities: [{ name: web, nics: [{ vlan: v }] }]
        standby: { preferSameHost: \(preferSameHost) }
        failover: { classOfService: [v] }
        """
        let dir = URL(fileURLWithPath: try ScratchDirectory.make("vp-choose"))
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("p.yaml").path
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        let store = InMemoryPlatformStore()
        try store.remember(bindings: ["web": "p1"], newAllocations: [
            NICAllocation(key: NICAllocation.key(personality: "web", vlan: "v"), mac: "02:56:50:00:00:01", ip: "10.9.0.10"),
        ], actor: "test", cause: "test")
        for f in failed { try store.markFailed(f, reason: "test") }
        return try PlatformView(definition: try PlatformLoader.load(path: file).definition, store: store)
    }

    let allReady: [String: StandbyChooser.Readiness] = ["p2": .running, "p3": .running, "p4": .off, "p5": .running]

    @Test func sameHostFirstThenHotBeforeColdThenDefinitionOrder() throws {
        let v = try view()
        #expect(StandbyChooser.choose(in: v, from: "p1", readiness: allReady, reserved: [])?.processor == "p5",
                "p5 is hot on the failed processor's host; p4 is there too but cold")
        #expect(StandbyChooser.choose(in: v, from: "p1", readiness: allReady, reserved: ["p5"])?.processor == "p4")
        #expect(StandbyChooser.choose(in: v, from: "p1", readiness: allReady, reserved: ["p5", "p4"])?.processor == "p2")
    }

    @Test func withoutSameHostPreferenceHotStandbysComeFirst() throws {
        let v = try view(preferSameHost: false)
        #expect(StandbyChooser.choose(in: v, from: "p1", readiness: allReady, reserved: [])?.processor == "p2")
    }

    @Test func failedUnusableAndCarryingProcessorsAreNeverChosen() throws {
        let v = try view(failed: ["p5", "p2"])
        let readiness: [String: StandbyChooser.Readiness] = ["p1": .running, "p2": .running, "p3": .unusable, "p4": .unusable, "p5": .running]
        #expect(StandbyChooser.choose(in: v, from: "p1", readiness: readiness, reserved: []) == nil)
    }

    @Test func heartbeatTargetsAreTheCarriersThatAreNotFailedOrMoving() throws {
        let v = try view()
        #expect(v.heartbeatTargets(excluding: []) == [HeartbeatTarget(processor: "p1", addresses: [.init(vlan: "v", ip: "10.9.0.10")])])
        #expect(v.heartbeatTargets(excluding: ["p1"]).isEmpty)
        #expect(try view(failed: ["p1"]).heartbeatTargets(excluding: []).isEmpty)
    }
}
