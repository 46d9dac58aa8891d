import Foundation
import Libvirt
#if canImport(Glibc)
import Glibc
#endif

/// How `LibvirtHost` fences: makes sure a processor is off before anything it held is given to
/// another, the guarantee behind "one writer per volume, one carrier per MAC". It reports `off` only on proof; when a
/// file that would tell cannot be read, the answer is `unconfirmed` and the move keeps fencing.
enum Fencer {
    /// Stops `name` and confirms it is off. A planned move first asks the guest to shut down (ACPI)
    /// and gives it `gracePeriod`; the processor image does not act on ACPI power-off yet, so today
    /// a planned move ends in the same kill as a failure.
    ///
    /// On this host the QEMU process is killed (SIGKILL) and watched until it is gone: that is
    /// proof no guest code runs and no device is open. libvirt's destroy would wait 10 s before
    /// it SIGKILLs a hung (stopped) QEMU, and answers no query about a dying domain for ~1.5 s.
    /// On a remote host libvirt's destroy and its report of "shut off" are the proof.
    static let gracePeriod: Duration = .seconds(5)

    static func fence(_ name: String, on host: LibvirtHost, planned: Bool, killWait: Duration = .seconds(5)) async -> FenceOutcome {
        guard host.isLocal else { return await throughLibvirt(name, on: host, planned: planned) }
        let processes = host.processes
        switch processes.state(of: name) {
        case .exited(let pid):
            return .off("QEMU process \(pid) had exited")
        case .running(let pid):
            if planned {
                try? await host.blocking { try host.connection().domain(named: name).shutdown() }
                if await waitGone(pid, processes, for: gracePeriod) { return .off("shut down by its guest") }
            }
            if processes.exited(pid) == true { return .off("QEMU process \(pid) had exited") }
            _ = processes.host.signal(pid, SIGKILL)
            if await waitGone(pid, processes, for: killWait) { return .off("QEMU process \(pid) killed (SIGKILL) and gone") }
            let now = describe(processes.state(of: name))
            return .unconfirmed("QEMU process \(pid) of \(name) is not confirmed gone after SIGKILL (\(now))")
        case .notRunning:
            return await throughLibvirt(name, on: host, planned: planned)
        case .unknown(let why):
            // A pid that cannot be checked is not signalled (it may be another program's):
            // libvirt, which knows its own process, stops it, and the proof is still ours to read.
            let libvirt = await throughLibvirt(name, on: host, planned: planned)
            let after = processes.state(of: name)
            switch (libvirt, after) {
            case (.off(let how), .exited), (.off(let how), .notRunning): return .off(how)
            case (.off(let how), _): return .unconfirmed("libvirt says \(name) is off (\(how)), but its QEMU process is \(describe(after))")
            case (.unconfirmed(let how), _): return .unconfirmed("\(why); \(how)")
            }
        }
    }

    private static func describe(_ state: QEMUProcess.State) -> String {
        switch state {
        case .running(let pid): "still running (pid \(pid))"
        case .exited(let pid): "gone (pid \(pid))"
        case .notRunning: "not run by libvirt"
        case .unknown(let why): "unknown: \(why)"
        }
    }

    private static func throughLibvirt(_ name: String, on host: LibvirtHost, planned: Bool) async -> FenceOutcome {
        do {
            guard let status = try await host.state(of: name) else { return .off("not defined on \(host.name)") }
            if !status.isActive { return .off("already \(status)") }
            if planned {
                try? await host.blocking { try host.connection().domain(named: name).shutdown() }
                if await waitOff(name, host, for: gracePeriod) { return .off("shut down by its guest") }
            }
            do { try await host.destroy(name) } catch let e as LibvirtError where !e.isConnectionFailure {
                // "not running" races with the guest stopping: the confirmation below decides.
            }
            if await waitOff(name, host, for: .seconds(15)) { return .off("destroyed through libvirt") }
            let now = (try? await host.state(of: name))?.map(\.description) ?? "unknown"
            return .unconfirmed("libvirt still reports \(name) as \(now) after destroy")
        } catch {
            return .unconfirmed("cannot reach host \(host.name) to stop \(name): \(error)")
        }
    }

    private static func waitGone(_ pid: pid_t, _ processes: QEMUProcess, for limit: Duration) async -> Bool {
        await poll(every: .milliseconds(5), for: limit) { processes.exited(pid) == true }
    }

    private static func waitOff(_ name: String, _ host: LibvirtHost, for limit: Duration) async -> Bool {
        await poll(every: .milliseconds(20), for: limit) { (try? await host.state(of: name)).map { $0.map { !$0.isActive } ?? true } ?? false }
    }

    private static func poll(every step: Duration, for limit: Duration, _ done: () async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if await done() { return true }
            try? await Task.sleep(for: step)
        }
        return await done()
    }
}
