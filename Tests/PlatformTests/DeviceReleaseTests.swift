import Foundation
import LibvirtXML
@testable import Reconciler
import Testing

/// A device unplugged from a running guest counts as released only once the live domain no
/// longer has it; the wait has a deadline.
@Suite struct DeviceReleaseTests {
    @Test func theDeviceOfADetachIsNamedByMACOrTarget() {
        let nic = InterfaceSpec(network: "n", mac: "02:56:50:AA:00:01").render()
        let disk = DiskSpec(source: .volume(pool: "p", volume: "v"), target: "vdb", format: "qcow2").render()
        #expect(DeviceRelease.device(in: nic) == .nic(mac: "02:56:50:aa:00:01"))
        #expect(DeviceRelease.device(in: disk) == .disk(target: "vdb"))
    }

    @Test func waitingEndsWhenTheGuestHasReleasedTheDevice() {
        var polls = 0
        let gone = DeviceRelease.waitUntilGone(deadline: .seconds(5), every: .milliseconds(1)) {
            polls += 1
            return polls < 4 // still there for three polls
        }
        #expect(gone)
        #expect(polls == 4)
    }

    @Test func aDeviceNeverReleasedFailsAtTheDeadline() {
        let start = ContinuousClock.now
        let gone = DeviceRelease.waitUntilGone(deadline: .milliseconds(100), every: .milliseconds(5)) { true }
        #expect(!gone)
        #expect(ContinuousClock.now - start >= .milliseconds(100))
        #expect(ContinuousClock.now - start < .seconds(2))
    }
}
