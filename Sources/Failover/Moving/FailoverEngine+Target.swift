import Foundation
import Hosts
import PlatformRender
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
        let silent = await answers.silent(addresses, port: heartbeatPort)
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
            let how = await executor.replug(devices, on: target, host: try hosts.host(host))
            let detail = "\(target) does not answer on \(list) after \(String(format: "%g", half)) s: \(how)"
            try store.noteReplug(record, event: PlatformEvent(kind: .alert, processor: target, personality: record.personality,
                                                              detail: detail))
        }
        return .waiting("waiting for \(record.personality) to answer on \(list)")
    }

    /// Why the target of an attached move no longer runs, or nil (running, or cannot tell: the
    /// silence bound decides then).
    func targetDied(_ record: FailoverRecord) async -> String? {
        guard record.step == .attached || record.step == .announced, let target = record.target, let name = record.targetHost,
              let host = try? hosts.host(name) else { return nil }
        if host.isLocal {
            switch host.process(of: target) {
            case .exited(let pid): return "QEMU process \(pid) exited"
            case .running, .unknown: return nil
            case .notRunning: break
            }
        }
        do {
            guard let status = try await host.state(of: target) else { return "it is no longer defined on \(name)" }
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
            let targetHost = try hosts.host(host)
            switch await targetHost.fence(target, planned: false) {
            case .unconfirmed(let why):
                throw PlatformError(.unavailable, "processor '\(target)'", "\(reason), but it cannot be confirmed off to take \(record.personality) back: \(why)")
            case .off(let how):
                try await executor.detach(devices, from: target, on: targetHost)
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
            let runs = await runs(record.source, host: record.sourceHost)
            let state = runs ? "it runs and carries \(person)" + (record.planned ? "" : "; it is no longer failed")
                : "it does not run: \(person) is not served until it is moved (vpctl failover \(person))"
            try store.finishAborted(record, sourceRuns: runs && !record.planned, event: PlatformEvent(
                kind: .step, processor: record.source, personality: person,
                detail: "aborted by \(who) at \(record.step.rawValue): \(person) stays on \(record.source); \(state)"))
            metrics.moveEnded(FailoverStep.aborted.rawValue)
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
    private func runs(_ name: String, host: String) async -> Bool {
        guard let host = try? hosts.host(host) else { return false }
        if host.isLocal {
            if case .running = host.process(of: name) { return true }
            return false
        }
        return (try? await host.state(of: name))??.state == .running
    }
}
