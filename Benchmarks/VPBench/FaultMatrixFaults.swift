import AgentProtocol
import FaultCheck
import Failover
import Foundation
import Hosts
import LibvirtXML
import Reconciler
import StateStore

/// The faults of the matrix, each injected on the lab's platform with `vpctl serve` running.
enum Fault: String, CaseIterable, Sendable, Codable {
    case qemuSigkill = "qemu-sigkill", qemuSigstop = "qemu-sigstop"
    case oneAdapterDown = "one-adapter-down", allAdaptersDown = "all-adapters-down"
    case libvirtdIdle = "libvirtd-restart-idle", libvirtdMidMove = "libvirtd-restart-mid-move"
    case serveKilledAtEachStep = "serve-killed-each-step", noStandbyLeft = "no-standby-left"
    case twoFailures = "two-failures", flapping

    /// What the row's recovery times measure.
    var recovery: String {
        switch self {
        case .oneAdapterDown: "link up → that address answers again (service never lost)"
        case .libvirtdIdle: "libvirtd stopped → qemu:///system answers again (service never lost)"
        case .noStandbyLeft: "repair of a standby → answering"
        case .serveKilledAtEachStep: "declared → answering, with 1.5 s pauses after each step and 6 restarts of serve"
        default: "declared → answering"
        }
    }
}

/// What injecting a fault did, beyond what every run checks.
struct Injected {
    /// The processors the fault may bring down (a declaration of any other is false).
    var mayDeclare: Set<String> = []
    var recoveryMs: [Double] = []
    var problems: [String] = []
    var notes: [String] = []
}

extension FaultLab {
    func inject(_ fault: Fault) async throws -> Injected {
        switch fault {
        case .qemuSigkill: return try await failCarrier(signal: SIGKILL)
        case .qemuSigstop: return try await failCarrier(signal: SIGSTOP)
        case .oneAdapterDown: return try await oneAdapterDown()
        case .allAdaptersDown: return try await allAdaptersDown()
        case .libvirtdIdle: return try await libvirtdIdle()
        case .libvirtdMidMove: return try await libvirtdMidMove()
        case .serveKilledAtEachStep: return try await serveKilledAtEachStep()
        case .noStandbyLeft: return try await noStandbyLeft()
        case .twoFailures: return try await twoFailures()
        case .flapping: return try await flapping()
        }
    }

    /// web's processor SIGKILLed (crash) or SIGSTOPped (hang): web moves to the hot standby.
    private func failCarrier(signal: Int32) async throws -> Injected {
        let carrier = try carrierOf("web"), pid = try qemuPid(carrier), before = try lastMoveID()
        kill(pid, signal)
        defer { if signal == SIGSTOP, QEMUProcess.pid(of: carrier) == pid { kill(pid, SIGCONT) } }
        var result = Injected(mayDeclare: [carrier])
        try expectMove(try await waitForMove(of: "web", after: before, within: .seconds(60)), from: carrier, into: &result)
        return result
    }

    /// A move off `source` that finished: its recovery time, and a problem if it is not the one expected.
    private func expectMove(_ move: FailoverRecord, from source: String, into result: inout Injected, since start: Date? = nil) throws {
        if move.source != source { result.problems.append("\(move.personality) moved off \(move.source), not off \(source)") }
        result.recoveryMs.append(try answeredMs(move, from: start))
        result.notes.append("\(move.personality): \(move.source) → \(move.target ?? "?") (\(move.reason.prefix { $0 != ":" }))")
    }

    /// web's front NIC link down for 5 s: an adapter event, not a failover; every other address
    /// keeps answering, and the front address answers again once the link is back.
    private func oneAdapterDown() async throws -> Injected {
        let carrier = try carrierOf("web"), dom = try domain(carrier)
        guard let front = try devices("web").nics.first(where: { $0.vlan == "front" }) else { throw BenchError("web has no front NIC") }
        let others = try Self.personalities.flatMap { try addresses($0) }.filter { $0 != front.ip }
        let watch = ProbeWatch(others, epoch: epoch)
        var down = front.spec
        down.linkUp = false
        let from = now()
        try dom.updateDevice(xml: down.render(), .live)
        do { try await Task.sleep(for: .seconds(5)) } catch { try? dom.updateDevice(xml: front.spec.render(), .live); throw error }
        try dom.updateDevice(xml: front.spec.render(), .live)
        let upAt = ContinuousClock.now
        var result = Injected()
        try await HeartbeatProbe.waitForReply(front.ip, within: .seconds(15))
        result.recoveryMs.append((ContinuousClock.now - upAt).seconds * 1000)
        try await Task.sleep(for: .seconds(1))
        result.problems += silences(watch.stop(), from: from, to: now())
        return result
    }

    /// Service lost: an address silent for more than a second.
    private func silences(_ probes: [String: [Probe]], from: Double, to: Double) -> [String] {
        probes.keys.sorted().compactMap { ip in
            let silent = ServiceWatch.longestSilence(probes[ip] ?? [], from: from, to: to)
            return silent > 1 ? String(format: "%@ did not answer for %.1f s", ip, silent) : nil
        }
    }

    /// Every NIC of web's processor link down: no address answers, so it is declared, fenced and
    /// replaced.
    private func allAdaptersDown() async throws -> Injected {
        let carrier = try carrierOf("web"), dom = try domain(carrier), before = try lastMoveID()
        for nic in try devices("web").nics {
            var down = nic.spec
            down.linkUp = false
            try dom.updateDevice(xml: down.render(), .live)
        }
        var result = Injected(mayDeclare: [carrier])
        try expectMove(try await waitForMove(of: "web", after: before, within: .seconds(60)), from: carrier, into: &result)
        return result
    }

    /// libvirtd stopped and started while nothing moves: no declaration, no silence.
    private func libvirtdIdle() async throws -> Injected {
        let all = try Self.personalities.flatMap { try addresses($0) }
        let watch = ProbeWatch(all, epoch: epoch)
        let from = now()
        var result = Injected()
        do { result.recoveryMs.append(try await Libvirtd.restart()) } catch { _ = watch.stop(); throw error }
        // The service reconnects on its own; give it the time of a few of its reconnect attempts.
        try await Task.sleep(for: .seconds(5))
        result.problems += silences(watch.stop(), from: from, to: now())
        try refresh()
        return result
    }

    /// web's processor SIGKILLed and, as soon as that is declared, libvirtd killed and started
    /// again: the move finishes anyway.
    private func libvirtdMidMove() async throws -> Injected {
        let carrier = try carrierOf("web"), pid = try qemuPid(carrier), before = try lastMoveID()
        kill(pid, SIGKILL)
        _ = try await waitForMove(of: "web", after: before, to: .declared, within: .seconds(10))
        // SIGKILL: a graceful stop took 25 s here, long enough for the move to finish first.
        var stepAfter = "?"
        let restartMs = try await Libvirtd.restart(signal: SIGKILL) { stepAfter = try moves(after: before).last?.step.rawValue ?? "?" }
        try refresh()
        var result = Injected(mayDeclare: [carrier])
        try expectMove(try await waitForMove(of: "web", after: before, within: .seconds(90)), from: carrier, into: &result)
        result.notes.append("libvirtd killed at step \(stepAfter), answering again \(Int(restartMs)) ms after the kill")
        return result
    }

    /// `vpctl serve` SIGKILLed at every step of a move (slowed down by its hidden
    /// --step-delay-ms); each time a new serve carries on, the last one at defaults.
    private func serveKilledAtEachStep() async throws -> Injected {
        await stopServe()
        let slow = ["--step-delay-ms", "1500"]
        try await startServe(extra: slow)
        let carrier = try carrierOf("web"), pid = try qemuPid(carrier), before = try lastMoveID()
        kill(pid, SIGKILL)
        var caught: [String] = []
        let deadline = ContinuousClock.now + .seconds(120)
        var killedAt: FailoverStep?
        while true {
            guard ContinuousClock.now < deadline else {
                throw BenchError("the move off \(carrier) did not get past \(killedAt?.rawValue ?? "nothing") within 120 s")
            }
            guard let move = try moves(after: before).last(where: { $0.personality == "web" }), move.step != killedAt else {
                try await Task.sleep(for: .milliseconds(5)); continue
            }
            if move.step == .done { break }
            await killServe()
            // The step the move is at now that this serve is gone (it may have gone one further).
            let step = try store.failover(id: move.id!)?.step ?? move.step
            caught.append(step.rawValue)
            killedAt = step
            if step == .done { break }
            try await startServe(extra: step >= .answered ? [] : slow)
        }
        if serve?.isRunning != true || serve?.slowed == true {
            await stopServe()
            try await startServe()
        }
        var result = Injected(mayDeclare: [carrier])
        try expectMove(try await waitForMove(of: "web", after: before, within: .seconds(30)), from: carrier, into: &result)
        result.notes.append("serve killed at \(caught.joined(separator: ", "))")
        let path: [FailoverStep] = [.declared, .standbyChosen, .fenced, .attached, .announced, .answered]
        let missed = path.map(\.rawValue).filter { !caught.contains($0) }
        if !missed.isEmpty { result.notes.append("steps passed between two polls, not killed at: \(missed.joined(separator: ", "))") }
        return result
    }

    /// Both standbys fenced (failed), then web's processor SIGKILLed: web is down and nothing is
    /// touched; a repaired standby lets the move resume by itself.
    private func noStandbyLeft() async throws -> Injected {
        let carrier = try carrierOf("web"), dbCarrier = try carrierOf("db")
        let spares = processors.filter { $0 != carrier && $0 != dbCarrier }
        for spare in spares { _ = try await Administration(engine: failover).fence(spare, confirm: false, who: "bench") }
        let dbBefore = try DomainFacts(xml: try domain(dbCarrier).xml())
        let pid = try qemuPid(carrier), before = try lastMoveID()
        kill(pid, SIGKILL)
        var result = Injected(mayDeclare: [carrier])
        _ = try await waitForMove(of: "web", after: before, to: .down, within: .seconds(15))
        // Down stays down, and touches nothing, for as long as no standby comes back.
        try await Task.sleep(for: .seconds(3))
        if let step = try moves(after: before).last?.step, step != .down {
            result.problems.append("web's move went on to \(step.rawValue) with no standby")
        }
        if try DomainFacts(xml: try domain(dbCarrier).xml()) != dbBefore {
            result.problems.append("db's processor \(dbCarrier) was changed while web was down")
        }
        let left = try DomainFacts(xml: try domain(carrier).xml(inactive: true))
        let webMACs = Set(try devices("web").nics.map { $0.spec.mac.lowercased() })
        if Set(left.nics.map(\.mac)) != webMACs { result.problems.append("web's NICs left \(carrier) with no standby to go to") }
        if try !store.events(limit: 200).contains(where: { $0.kind == .alert && $0.detail.contains("web is DOWN") }) {
            result.problems.append("no alert says web is down")
        }
        let repairedAt = Date()
        try await repair(spares[0])
        try expectMove(try await waitForMove(of: "web", after: before, within: .seconds(90)), from: carrier, into: &result, since: repairedAt)
        return result
    }

    /// web's and db's processors SIGKILLed at the same instant: one goes to the hot standby, the
    /// other to the cold one.
    private func twoFailures() async throws -> Injected {
        let a = try carrierOf("web"), b = try carrierOf("db")
        let pa = try qemuPid(a), pb = try qemuPid(b), before = try lastMoveID()
        kill(pa, SIGKILL)
        kill(pb, SIGKILL)
        var result = Injected(mayDeclare: [a, b])
        try expectMove(try await waitForMove(of: "web", after: before, within: .seconds(90)), from: a, into: &result)
        try expectMove(try await waitForMove(of: "db", after: before, within: .seconds(90)), from: b, into: &result)
        return result
    }

    /// web's processor stopped for 1 s and continued for 2 s, three times: it is declared once,
    /// fenced, and web moves once.
    private func flapping() async throws -> Injected {
        let carrier = try carrierOf("web"), pid = try qemuPid(carrier), before = try lastMoveID()
        var result = Injected(mayDeclare: [carrier])
        let stillThatQEMU = { QEMUProcess.pid(of: carrier) == pid }
        for _ in 0..<3 where stillThatQEMU() {
            kill(pid, SIGSTOP)
            try? await Task.sleep(for: .seconds(1))
            if stillThatQEMU() { kill(pid, SIGCONT) }
            try? await Task.sleep(for: .seconds(2))
        }
        if stillThatQEMU() { kill(pid, SIGCONT) }
        let webMoves = try moves(after: before).filter { $0.personality == "web" }
        if webMoves.isEmpty {
            result.notes.append("never declared: \(carrier) came back each time")
            return result
        }
        try expectMove(try await waitForMove(of: "web", after: before, within: .seconds(60)), from: carrier, into: &result)
        let count = try moves(after: before).filter { $0.personality == "web" }.count
        if count > 1 { result.problems.append("web moved \(count) times for one flapping processor") }
        return result
    }
}
