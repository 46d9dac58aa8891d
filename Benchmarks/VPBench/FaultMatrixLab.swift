import CommandOutput
import AgentClient
import AgentProtocol
import FaultCheck
import Failover
import Foundation
import Hosts
import Libvirt
import LibvirtXML
import PlatformEngine
import PlatformHarness
import Reconciler
import StateStore

/// The fault matrix's platform: web (front + back + a disk) and db (back + a disk) on two
/// processors, one hot and one cold standby, the product's defaults everywhere, `vpctl serve` as a
/// child process. It knows how to bring the platform back to a known state between runs.
final class FaultLab: @unchecked Sendable {
    static let personalities = ["web", "db"]
    /// TCG guests on a shared two-core machine can take seconds to answer (formatting a blank
    /// disk, a load average of 20): a slow answer is not what the matrix measures.
    static let agentTimeout: TimeInterval = 10
    let platform: OwnPlatform
    var engine: PlatformEngine { platform.engine }
    var failover: FailoverEngine { platform.failover }
    var store: any PlatformStore { engine.store }
    var name: String { platform.name }
    let processors: [String]
    let sampler: CarrierSampler
    let epoch = ContinuousClock.now
    private(set) var serve: ServeChild?
    /// The last move the matrix has accounted for: a declaration after it and before a run's
    /// fault is false (nothing was faulted then).
    var accountedMoves: Int64 = 0
    var serveLog: String { platform.serveLog }

    init(image: String?) throws {
        let name = "fmx"
        processors = (1...4).map { "\(name)-\($0)" }
        platform = try OwnPlatform(name: name, definition: Self.definition(name: name, processors: processors, image: image))
        sampler = CarrierSampler(domains: processors)
    }

    static func definition(name: String, processors: [String], image: String?) -> String {
        let definition = DefinitionYAML(platform: name, processors: processors, image: image)
        return definition.yaml("""
        \(DefinitionYAML.frontAndBack(net: 123))
        \(definition.storage(volumes: "[{ name: web-data, capacity: 16MiB }, { name: db-data, capacity: 16MiB }]"))
        personalities:
          - name: web
            nics: [{ vlan: front }, { vlan: back }]
            disks: [{ target: vdb, volume: \(definition.poolName)/web-data }]
          - name: db
            nics: [{ vlan: back }]
            disks: [{ target: vdb, volume: \(definition.poolName)/db-data }]
        standby: { mode: hot, count: 1 }
        """)
    }

    /// New engines (and libvirt connections): after libvirtd restarted, the old ones are closed.
    func refresh() throws { try platform.refresh() }

    func now() -> Double { (ContinuousClock.now - epoch).seconds }

    // MARK: Bringing up and down

    func up() async throws {
        Progress.say("bringing up \(name)")
        try await Libvirtd.start()
        try await within(.seconds(240), "apply of \(name)") { try await self.engine.apply(cause: "bench faults") }
        // Formats the blank disks now, before serve watches (it takes long under TCG).
        _ = try await writeMarkers("fm bring-up", within: .seconds(600))
        try await startServe()
        try await ensureKnownState()
        accountedMoves = 0
    }

    /// Stops the service and removes the platform; never throws (it runs on every way out).
    func down() async {
        await stopServe()
        try? await Libvirtd.start()
        try? refresh()
        do { try await within(.seconds(120), "destroy of \(name)") { try await self.engine.destroy(cause: "bench faults") } } catch {
            Progress.say("could not remove \(name): \(error)")
        }
    }

    /// Starts over: the platform destroyed and applied afresh with an empty state store.
    func rebuild() async throws {
        Progress.say("rebuilding \(name) from scratch")
        await down()
        try platform.freshState()
        try await up()
    }

    func startServe(extra: [String] = []) async throws {
        await serve?.kill()
        let before = try store.events(limit: 1).last?.id ?? 0
        let child = try platform.startServe(extra)
        serve = child
        try await child.waitUntilStarted(store: store, after: before, within: .seconds(20))
        // A margin for the service's first heartbeat round trips (an address that never answered
        // cannot be declared silent); a run that starts too soon shows as a failure, not as a pass.
        try await Task.sleep(for: .seconds(1))
    }

    func killServe() async { await serve?.kill() }

    func stopServe() async {
        await serve?.stop()
        serve = nil
    }

    // MARK: What is where

    func view() throws -> PlatformView { try PlatformView(definition: engine.definition, store: store) }

    func carrierOf(_ person: String) throws -> String {
        guard let p = try store.bindings()[person] else { throw BenchError("\(person) is not placed on any processor") }
        return p
    }

    func devices(_ person: String) throws -> (nics: [(vlan: String, spec: InterfaceSpec, ip: String)], disks: Int) {
        guard let d = try view().devices[person] else { throw BenchError("\(person) is not in the definition") }
        return (d.nics.map { ($0.vlan, $0.spec, $0.ip) }, d.disks.count)
    }

    func addresses(_ person: String) throws -> [String] { try devices(person).nics.map(\.ip) }

    func qemuPid(_ processor: String) throws -> pid_t {
        guard let pid = QEMUProcess.pid(of: processor) else { throw BenchError("the QEMU of \(processor) does not run") }
        return pid
    }

    func domain(_ processor: String) throws -> Domain {
        guard let c = engine.connections["local"] else { throw BenchError("no connection to host local") }
        return try c.domain(named: processor)
    }

    // MARK: Moves

    func lastMoveID() throws -> Int64 { try store.failovers(last: 1).last?.id ?? 0 }

    func moves(after id: Int64) throws -> [FailoverRecord] { try store.failovers(last: 500).filter { ($0.id ?? 0) > id } }

    /// Waits until a move of `person` newer than `after` reaches `step` (or a later one).
    func waitForMove(of person: String, after id: Int64, to step: FailoverStep = .done, within limit: Duration) async throws -> FailoverRecord {
        let deadline = ContinuousClock.now + limit
        while true {
            let move = try moves(after: id).last { $0.personality == person }
            if let move, move.step >= step { return move }
            guard ContinuousClock.now < deadline else {
                let last = move?.step.rawValue ?? "none declared"
                throw BenchError("\(person): no move reached \(step.rawValue) within \(limit) (last step: \(last))")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Milliseconds from `start` (the declaration by default) to the journal's "answered" step of `move`.
    func answeredMs(_ move: FailoverRecord, from start: Date? = nil) throws -> Double {
        let answered = try store.events(limit: 1000).last {
            $0.kind == .step && $0.personality == move.personality && $0.detail.hasPrefix("answered") && $0.time >= move.declaredAt
        }
        guard let answered else { throw BenchError("the journal has no answered step for the move of \(move.personality)") }
        return answered.time.timeIntervalSince(start ?? move.declaredAt) * 1000
    }

    // MARK: Markers and service

    /// Writes `tag` as the marker on every personality's disk; returns what was written. The
    /// first write to a blank disk formats it, which took over a minute here under load: one
    /// request at a time, each given that long (a second request would format it again).
    func writeMarkers(_ tag: String, within limit: Duration = .seconds(240)) async throws -> [String: String] {
        var written: [String: String] = [:]
        for person in Self.personalities {
            let text = "\(tag) \(person)"
            let agent = AgentHTTPClient(host: try backAddress(person), timeout: 150)
            let deadline = ContinuousClock.now + limit
            while true {
                do {
                    let disk = try await agent.writeMarker(disk: "vdb", text: text)
                    guard disk.marker == text else {
                        throw BenchError("\(person)'s disk shows marker \(disk.marker ?? "none") after writing \"\(text)\"")
                    }
                    break
                } catch {
                    guard ContinuousClock.now < deadline, !(error is CancellationError) else {
                        throw BenchError("could not write the marker on \(person)'s disk: \(error)")
                    }
                }
                try await Task.sleep(for: .milliseconds(500))
            }
            written[person] = text
        }
        return written
    }

    func backAddress(_ person: String) throws -> String {
        guard let ip = try devices(person).nics.first(where: { $0.vlan == "back" })?.ip else {
            throw BenchError("\(person) has no NIC on back")
        }
        return ip
    }

    /// What a user checks after a fault: the personality answers from the processor it is bound
    /// to, with its MACs, its addresses and its disk, each MAC once in that processor's live
    /// definition. Returns the disk's marker and what was wrong.
    func served(_ person: String) async -> (marker: MarkerReading, problems: [String]) {
        guard var processor = try? carrierOf(person), let ip = try? backAddress(person), let nics = try? devices(person).nics else {
            return (.unreadable("\(person) is not placed"), ["\(person) is not placed on any processor"])
        }
        let macs = Set(nics.map { $0.spec.mac.lowercased() })
        let agent = AgentHTTPClient(host: ip, timeout: Self.agentTimeout)
        let deadline = ContinuousClock.now + .seconds(90)
        var last: AgentReport?
        var lastError = "no answer"
        while ContinuousClock.now < deadline {
            do {
                // Bound anew each time: a move in progress may rebind it.
                processor = (try? carrierOf(person)) ?? processor
                let r = try await agent.report()
                last = r
                if r.hostname == processor && Set(r.macs) == macs && r.interfaces.filter({ !$0.addresses.isEmpty }).count == macs.count
                    && r.disk("vdb")?.marker != nil { break }
            } catch { lastError = "\(error)" }
            try? await Task.sleep(for: .milliseconds(200))
        }
        guard let r = last else { return (.unreadable(lastError), ["\(person) does not answer at \(ip) within 90 s: \(lastError)"]) }
        var problems: [String] = []
        if r.hostname != processor {
            problems.append("\(person)'s address \(ip) is answered by \(r.hostname), not by its carrier \(processor)")
        }
        if Set(r.macs) != macs { problems.append("\(processor) shows MACs \(r.macs.sorted()), not \(person)'s \(macs.sorted())") }
        if r.interfaces.filter({ !$0.addresses.isEmpty }).count != macs.count {
            problems.append("\(person) has not every address on \(processor)")
        }
        switch File.read("/run/libvirt/qemu/\(processor).xml") {
        case .bytes(let b):
            let xml = String(decoding: b, as: UTF8.self)
            for mac in macs.sorted() {
                let n = xml.components(separatedBy: "address='\(mac)'").count - 1
                if n != 1 { problems.append("\(mac) is \(n) times in \(processor)'s live definition") }
            }
        default: problems.append("\(processor)'s live definition cannot be read")
        }
        guard r.hostname == processor else { return (.unreadable("answered by \(r.hostname)"), problems) }
        return (.found(r.disk("vdb")?.marker), problems)
    }

    /// Waits (up to `limit`) until no move is unfinished but those that are down; returns those
    /// that still are.
    func settledMoves(within limit: Duration = .seconds(90)) async throws -> [FailoverRecord] {
        let deadline = ContinuousClock.now + limit
        while true {
            let moving = try store.unfinishedFailovers()
            // A move that is down waits for a repair, which only the restore does.
            if moving.allSatisfy({ $0.step == .down }) || ContinuousClock.now >= deadline { return moving }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    // MARK: Known state

    /// After a run: moves finished, failed processors repaired, the definition applied again,
    /// then `ensureKnownState`.
    func restore() async throws {
        try refresh()
        try await Libvirtd.start()
        if serve?.isRunning != true || serve?.slowed == true { try await startServe() }
        try linksUp()
        let deadline = ContinuousClock.now + .seconds(90)
        while true {
            let moving = try store.unfinishedFailovers()
            if moving.isEmpty { break }
            guard ContinuousClock.now < deadline else {
                throw BenchError("moves still unfinished after 90 s: \(moving.map { "\($0.personality) at \($0.step.rawValue)" })")
            }
            // A move that is down waits for a standby: give it one.
            let busy = Set(moving.flatMap { [$0.source, $0.target].compactMap { $0 } })
            if moving.contains(where: { $0.step == .down }), let spare = try view().failed.sorted().first(where: { !busy.contains($0) }) {
                try await repair(spare)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        for p in try view().failed.sorted() { try await repair(p) }
        try await within(.seconds(120), "re-apply of \(name)") { try await self.engine.apply(cause: "bench faults: restore") }
        try await ensureKnownState()
    }

    func repair(_ processor: String) async throws {
        try await within(.seconds(90), "repair of \(processor)") {
            try await Administration(engine: self.failover).repairAndWaitForBoot(processor, platform: self.name, who: "bench")
        }
    }

    /// Every carrier's links up (an adapter fault that failed half-way leaves one down).
    func linksUp() throws {
        for person in Self.personalities {
            guard let processor = try store.bindings()[person], let dom = try? domain(processor), try dom.isActive() else { continue }
            let xml = try dom.xml()
            guard xml.contains("<link state='down'/>") else { continue }
            for nic in try devices(person).nics { try dom.updateDevice(xml: nic.spec.render(), .live) }
        }
    }

    /// Where every run starts: no move unfinished, nothing failed, both personalities answering on
    /// every address from two running processors, one hot standby booted, one cold, serve running.
    func ensureKnownState() async throws {
        let v = try view()
        let moving = try store.unfinishedFailovers()
        guard moving.isEmpty else { throw BenchError("unfinished moves: \(moving.map(\.personality))") }
        guard v.failed.isEmpty else { throw BenchError("failed processors: \(v.failed.sorted())") }
        let carriers = Self.personalities.compactMap { v.bindings[$0] }
        guard Set(carriers).count == Self.personalities.count else { throw BenchError("personalities placed as \(v.bindings)") }
        for p in carriers where try !domain(p).isActive() { throw BenchError("carrier \(p) does not run") }
        for person in Self.personalities {
            for ip in try addresses(person) { try await HeartbeatProbe.waitForReply(ip, within: .seconds(90)) }
        }
        let spares = processors.filter { !carriers.contains($0) }
        let hot = try spares.filter { try domain($0).isActive() }
        guard hot.count == 1 else { throw BenchError("expected one hot standby among \(spares), running: \(hot)") }
        try await Console.waitUntilReady(platform: name, processor: hot[0], within: .seconds(90))
        guard serve?.isRunning == true, serve?.slowed == false else {
            throw BenchError("vpctl serve does not run at its defaults; see \(serveLog)")
        }
    }
}

/// Runs `body`, giving up (and cancelling it) after `limit`.
func within(_ limit: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Bool.self) { group in
        group.addTask { try await body(); return true }
        group.addTask { try await Task.sleep(for: limit); return false }
        defer { group.cancelAll() }
        guard try await group.next() == true else { throw BenchError("\(what) did not finish within \(limit)") }
    }
}
