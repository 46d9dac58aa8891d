import AgentProtocol
import Foundation
import Libvirt
import PlatformRender
import Reconciler
import StateStore
import SystemSupport

/// A move's target that does not come through: it stays silent, it dies, or an administrator
/// aborts. Nothing here waits without a bound, and a target is given up only once it is off.
extension FailoverEngine {
    /// `announced`: waits for the personality to answer on every address. Halfway through
    /// `confirmTimeout` the target's NICs are re-plugged once (a NIC hot-plugged into a guest that
    /// was not ready for it can be lost); at the end the target is given up for another standby.
    func confirm(_ record: FailoverRecord, devices: Renderer.PersonalityDevices, view: PlatformView,
                 done: (FailoverStep, String, Bool, FailoverRecord) throws -> Progress) async throws -> Progress {
        let addresses = view.addresses(of: record.personality)
        let silent = addresses.filter { (try? HeartbeatProbe.ping($0.ip, port: heartbeatPort, timeout: .milliseconds(50))) ?? nil == nil }
        let target = record.target ?? "?"
        if silent.isEmpty {
            let total = Date().timeIntervalSince(record.declaredAt)
            let at = addresses.map(\.ip).joined(separator: ", ")
            return try done(.answered, "\(record.personality) answers on \(target) at \(at); \(Int(total * 1000)) ms after declaration",
                            false, record)
        }
        let list = silent.map(\.ip).joined(separator: ", ")
        let half = confirmTimeout.seconds / 2
        if let replugged = record.replugAt {
            if Date().timeIntervalSince(replugged) > half {
                return try await giveUp(record, devices: devices, markFailed: true, kind: .alert,
                                        because: "\(target) did not answer on \(list) within \(Int(confirmTimeout.seconds)) s, "
                                            + "its NICs re-plugged halfway")
            }
        } else if Date().timeIntervalSince(record.updatedAt) > half, let host = record.targetHost {
            let how = await replug(devices, on: target, host: host)
            let detail = "\(target) does not answer on \(list) after \(String(format: "%g", half)) s: \(how)"
            try store.noteReplug(record, event: PlatformEvent(kind: .alert, processor: target, personality: record.personality,
                                                              detail: detail))
        }
        return .waiting("waiting for \(record.personality) to answer on \(list)")
    }

    /// Unplugs the personality's NICs from the running target and plugs them again. Returns what happened.
    private func replug(_ devices: Renderer.PersonalityDevices, on name: String, host: String) async -> String {
        do {
            let domain = try hosts.connection(host).domain(named: name)
            let macs = Set(devices.interfaces.map { $0.mac.lowercased() })
            for nic in devices.interfaces { try domain.detachDevice(xml: nic.render(), .live) }
            // The guest must release them (ACPI): give it a bound, then plug back what left.
            let deadline = ContinuousClock.now + .seconds(5)
            var live = try DomainFacts(xml: try domain.xml()).nics.filter { macs.contains($0.mac) }
            while !live.isEmpty, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
                live = try DomainFacts(xml: try domain.xml()).nics.filter { macs.contains($0.mac) }
            }
            for nic in devices.interfaces where !live.contains(where: { $0.mac == nic.mac.lowercased() }) {
                try domain.attachDevice(xml: nic.render(), .live)
            }
            let kept = live.map(\.mac).sorted().joined(separator: ", ")
            return live.isEmpty ? "its NICs were re-plugged" : "it did not release \(kept) for a re-plug"
        } catch {
            return "re-plugging its NICs failed: \(error)"
        }
    }

    /// Why the target of an attached move no longer runs, or nil (running, or cannot tell: the
    /// silence bound decides then).
    func targetDied(_ record: FailoverRecord) -> String? {
        guard record.step == .attached || record.step == .announced, let target = record.target, let host = record.targetHost,
              let uri = hosts.uri(of: host) else { return nil }
        if !Hosts.isRemote(uri), uri.hasPrefix("qemu:") {
            switch processes.state(of: target) {
            case .exited(let pid): return "QEMU process \(pid) exited"
            case .running, .unknown: return nil
            case .notRunning: break
            }
        }
        do {
            guard let domain = try hosts.connection(host).domainIfPresent(named: target) else {
                return "it is no longer defined on \(host)"
            }
            let status = try domain.status()
            return status.isActive ? nil : "libvirt: \(status)"
        } catch {
            return nil
        }
    }

    /// Takes the personality back from the target: it is fenced (nothing of the personality may
    /// run there once another standby gets it), the personality's NICs and disks leave its
    /// definition, it is marked failed, and the move goes back to choosing. A target that was
    /// chosen but given nothing yet is only released.
    func giveUp(_ record: FailoverRecord, devices: Renderer.PersonalityDevices, markFailed: Bool, kind: PlatformEvent.Kind,
                because reason: String) async throws -> Progress {
        guard let target = record.target, let host = record.targetHost else {
            throw PlatformError(.internal, "move #\(record.id ?? 0)", "it has no target")
        }
        var detail = "\(reason); \(target) is released and another standby is chosen"
        if markFailed {
            switch await Fencer.fence(target, on: hosts, host: host, planned: false, processes: processes) {
            case .unconfirmed(let why):
                throw PlatformError(.unavailable, "processor '\(target)'", "\(reason), but it cannot be confirmed off to take \(record.personality) back: \(why)")
            case .off(let how):
                try await detach(devices, from: target, host: host)
                detail = "\(reason); \(target) is off (\(how)), cleaned of \(record.personality) and failed "
                    + "(vpctl repair \(target)); another standby is chosen"
            }
        }
        try store.giveUpTarget(record, reason: reason, markFailed: markFailed,
                               event: PlatformEvent(kind: kind, processor: target, personality: record.personality, detail: detail))
        syncServices()
        return .advanced(.declared)
    }

    /// `vpctl failover --abort`. Before the source is fenced nothing was given away: the move ends
    /// (`aborted`) and the personality stays where it was. From the fence on it cannot stay: the
    /// target is given up and the move goes on to another standby, or `down` if none is free.
    func abort(_ record: FailoverRecord, by who: String, devices: Renderer.PersonalityDevices) async throws -> Progress {
        let person = record.personality
        guard record.fencedAt != nil || record.step >= .fenced else {
            let runs = runs(record.source, host: record.sourceHost)
            let state = runs ? "it runs and carries \(person)" + (record.planned ? "" : "; it is no longer failed")
                : "it does not run: \(person) is not served until it is moved (vpctl failover \(person))"
            try store.finishAborted(record, sourceRuns: runs && !record.planned, event: PlatformEvent(
                kind: .step, processor: record.source, personality: person,
                detail: "aborted by \(who) at \(record.step.rawValue): \(person) stays on \(record.source); \(state)"))
            syncServices()
            return .finished
        }
        guard record.target != nil else {
            try store.giveUpTarget(record, reason: "abort", markFailed: false, event: PlatformEvent(
                kind: .step, processor: record.source, personality: person,
                detail: "abort asked by \(who): \(record.source) is already fenced, so \(person) cannot stay there; "
                    + "it moves to the next free standby"))
            return .advanced(.declared)
        }
        return try await giveUp(record, devices: devices, markFailed: record.step >= .attached, kind: .step,
                                because: "aborted by \(who) at \(record.step.rawValue) "
                                    + "(\(record.source) is fenced, \(person) cannot stay there)")
    }

    /// The processor's QEMU is confirmed running (on a remote host: libvirt says running).
    private func runs(_ name: String, host: String) -> Bool {
        guard let uri = hosts.uri(of: host) else { return false }
        if !Hosts.isRemote(uri), uri.hasPrefix("qemu:") {
            if case .running = processes.state(of: name) { return true }
            return false
        }
        return (try? hosts.connection(host).domainIfPresent(named: name)?.status().state) == .running
    }
}
