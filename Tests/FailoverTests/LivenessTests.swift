@testable import Failover
import Foundation
@testable import Hosts
import LibvirtXML
import Testing
import SystemSupport

/// Unknown means unsafe: a /proc entry or a libvirt status file that cannot be read never counts
/// as "exited", so the fence does not report a processor off and the device guard does not drop
/// a holder.
struct LivenessTests {
    let dir = QEMUProcess.runDirectory

    @Test func anUnreadableProcEntryIsUnknownNeverExited() {
        let fake = FakeProcesses()
        fake.runQEMU("fe-a", pid: 4242)
        fake.set("/proc/4242/stat", .unreadable("EACCES"))
        let qemu = QEMUProcess(fake)
        guard case .unknown = qemu.state(of: "fe-a") else { Issue.record("state is \(qemu.state(of: "fe-a"))"); return }
        #expect(qemu.exited(4242) == nil)

        fake.runQEMU("fe-b", pid: 4343)
        fake.set("/proc/4343/status", .unreadable("EIO"))
        fake.reap(4343)
        fake.set("/proc/4343/status", .unreadable("EIO"))
        #expect(qemu.exited(4343) == nil, "a zombie leader whose thread count cannot be read may still have threads")

        fake.set("\(dir)/fe-c.pid", .unreadable("EMFILE"))
        guard case .unknown = qemu.state(of: "fe-c") else { Issue.record("state is \(qemu.state(of: "fe-c"))"); return }
        fake.runQEMU("fe-d", pid: 4444)
        fake.set("/proc/4444/cmdline", .unreadable("EACCES"))
        guard case .unknown = qemu.state(of: "fe-d") else { Issue.record("state is \(qemu.state(of: "fe-d"))"); return }
    }

    @Test func aGoneProcessIsAConfirmedExitAndNoPidFileIsNotRunning() {
        let fake = FakeProcesses()
        fake.runQEMU("fe-a", pid: 4242)
        let qemu = QEMUProcess(fake)
        #expect(qemu.state(of: "fe-a") == .running(4242))
        fake.set("/proc/4242/stat", .missing)
        #expect(qemu.state(of: "fe-a") == .exited(4242))
        #expect(qemu.state(of: "fe-none") == .notRunning)
        fake.runQEMU("fe-b", pid: 4343)
        fake.set("/proc/4343/cmdline", "/usr/bin/python3\0other\0")
        #expect(qemu.state(of: "fe-b") == .exited(4343), "a pid recycled by another program: the QEMU is long gone")
    }

    @Test func theFenceDoesNotReportOffWhenTheProcessCannotBeRead() async {
        let fake = FakeProcesses()
        fake.runQEMU("fe-unreadable", pid: 4242)
        fake.set("/proc/4242/stat", .unreadable("EACCES"))
        let outcome = await Fencer.fence("fe-unreadable", on: local(fake), planned: false)
        guard case .unconfirmed(let why) = outcome else { Issue.record("fence says \(outcome)"); return }
        #expect(why.contains("EACCES"))
        #expect(fake.signals.withLock { $0.isEmpty }, "a pid that cannot be checked is not signalled")
    }

    @Test func theFenceWaitsUntilEveryThreadIsGoneAndNotLonger() async {
        let fake = FakeProcesses()
        fake.runQEMU("fe-kill", pid: 4242)
        fake.onSignal = { fake, pid, _ in fake.reap(pid) }
        let outcome = await Fencer.fence("fe-kill", on: local(fake), planned: false)
        #expect(outcome == .off("QEMU process 4242 killed (SIGKILL) and gone"))
        #expect(fake.signals.withLock { $0.map(\.1) } == [SIGKILL])

        // Killed, but then /proc cannot be read: not confirmed, whatever the kill did.
        let blind = FakeProcesses()
        blind.runQEMU("fe-blind", pid: 4343)
        blind.onSignal = { fake, pid, _ in fake.set("/proc/\(pid)/stat", .unreadable("EIO")) }
        let after = await Fencer.fence("fe-blind", on: local(blind), planned: false, killWait: .milliseconds(200))
        guard case .unconfirmed = after else { Issue.record("fence says \(after)"); return }
    }

    /// A host whose QEMU processes are `fake`'s (its libvirt is the test driver).
    func local(_ fake: FakeProcesses) -> LibvirtHost {
        LibvirtHost(name: "a", uri: "test:///default", processes: QEMUProcess(fake), local: true)
    }

    func guardCheck(_ fake: FakeProcesses) async throws {
        try await DeviceGuard.check(nics: [InterfaceSpec(network: "n", mac: "02:56:50:05:00:01")], disks: [], receiver: "fe-receiver",
                                    receiverHost: "local",
                                    hosts: PlatformHosts([LibvirtHost(name: "local", uri: "qemu:///system", processes: QEMUProcess(fake))]))
    }

    @Test func theDeviceGuardRefusesTheAttachWhenAHolderCannotBeToldOff() async throws {
        let fake = FakeProcesses()
        fake.runQEMU("fe-holder", pid: 5000, macs: ["02:56:50:05:00:01"])
        await #expect(throws: PlatformError.self, "a running holder of the MAC") { try await guardCheck(fake) }

        fake.set("/proc/5000/stat", .missing)
        try await guardCheck(fake) // its QEMU is gone: not a holder

        fake.set("/proc/5000/stat", .unreadable("EACCES"))
        await #expect(throws: PlatformError.self, "its /proc entry cannot be read") { try await guardCheck(fake) }

        fake.runQEMU("fe-holder", pid: 5000)
        fake.set("\(dir)/fe-holder.xml", .unreadable("EACCES"))
        await #expect(throws: PlatformError.self, "its status file cannot be read") { try await guardCheck(fake) }

        fake.set("\(dir)/fe-holder.xml", .missing)
        await #expect(throws: PlatformError.self, "it runs and its status file is missing") { try await guardCheck(fake) }

        fake.set("\(dir)/fe-holder.pid", .unreadable("EIO"))
        await #expect(throws: PlatformError.self, "its pid file cannot be read") { try await guardCheck(fake) }

        let empty = FakeProcesses()
        try await guardCheck(empty)
        empty.directoryError.withLock { $0 = "cannot list \(dir): EACCES" }
        await #expect(throws: PlatformError.self, "libvirt's run directory cannot be listed") { try await guardCheck(empty) }
    }
}
