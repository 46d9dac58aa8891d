import Foundation
import HostDoctor
import Libvirt
import PlatformModel
import PlatformRender
import ProcessorImage
import Reconciler
import ServiceControl
import StateStore
import SystemSupport

/// A loaded, validated platform with its state store and host connections: what `plan`,
/// `apply`, `destroy` and `status` work on.
public final class PlatformEngine: @unchecked Sendable {
    public let loaded: LoadedPlatform
    public var definition: PlatformDefinition { loaded.definition }
    public let store: any PlatformStore
    public let connections: [String: Connection]
    public let reconciler: Reconciler
    /// The volumes this platform created, as the state store remembers them.
    public var volumeLedger: any VolumeLedger { StoreVolumeLedger(store: store) }
    let actor = "vpctl (pid \(ProcessInfo.processInfo.processIdentifier))"

    /// Loads and validates the file (throwing every problem at once), then opens the SQLite store
    /// (at `statePath`, or the platform's default) and connects to every host. Nothing in libvirt
    /// is changed.
    public convenience init(file: String, statePath: String? = nil) throws {
        try self.init(loaded: try PlatformLoader.load(path: file), statePath: statePath)
    }

    /// The same for a definition already parsed (one sent to the admin API, say).
    public convenience init(loaded: LoadedPlatform, statePath: String? = nil) throws {
        try self.init(loaded: loaded) { p in try SQLitePlatformStore(path: statePath ?? SQLitePlatformStore.defaultPath(platform: p.platform)) }
    }

    /// The same on a store of the caller's (another handle on an engine's store: the same memory).
    public convenience init(file: String, store: any PlatformStore) throws {
        try self.init(loaded: try PlatformLoader.load(path: file), store: store)
    }

    /// A parsed definition on a store of the caller's (the admin API's plan and apply: the daemon's own store).
    public convenience init(loaded: LoadedPlatform, store: any PlatformStore) throws {
        try self.init(loaded: loaded) { _ in store }
    }

    private init(loaded: LoadedPlatform, openStore: (PlatformDefinition) throws -> any PlatformStore) throws {
        self.loaded = loaded
        let issues = Validator.validate(loaded)
        if !issues.isEmpty { throw ConfigErrors(issues: issues) }
        let p = loaded.definition
        store = try openStore(p)
        var connections: [String: Connection] = [:]
        for (i, host) in p.hosts.enumerated() {
            do {
                connections[host.name] = try Connection(uri: host.uri)
            } catch {
                // Not the definition's fault (as far as one can tell): libvirt there does not answer.
                let at = loaded.line(of: "hosts[\(i)].uri").map { " (\(loaded.file):\($0))" } ?? ""
                throw PlatformError(.unavailable, "host '\(host.name)'", field: "hosts[\(i)].uri", "cannot reach it\(at): \(error)")
            }
        }
        self.connections = connections
        reconciler = Reconciler(platform: p.platform, connections: connections)
    }

    deinit { connections.values.forEach { $0.close() } }

    /// The desired state, with the addresses and bindings it implies (not yet remembered).
    public func desired() async throws -> (state: DesiredState, bindings: [String: String], allocation: Allocator.Result) {
        let p = definition
        let (allocation, failed, bindings) = try placement()
        var types: [String: String] = [:]
        let needsImage = p.hosts.contains { !$0.uri.hasPrefix("test:") }
        let image = ProcessorImage(directory: p.processors.image ?? ProcessorImage.defaultDirectory)
        var boot = BootImage(kernel: image.kernelPath, initrd: image.initrdPath, cmdline: "console=ttyS0")
        if needsImage {
            let manifest = try image.load()
            boot.cmdline = manifest.kernelCommandLine
        }
        for host in p.hosts {
            if host.uri.hasPrefix("test:") { types[host.name] = "test"; continue }
            if let type = host.domainType, type != .auto { types[host.name] = type.rawValue; continue }
            types[host.name] = try await DomainTypeProbe.resolve(connections[host.name]!, kernel: image.kernelPath)
        }
        let state = Renderer.render(p, allocations: allocation.nics, bindings: bindings, domainTypes: types, image: boot, failed: failed)
        return (state, bindings, allocation)
    }

    /// The addresses and bindings the store's memory implies (not yet remembered), and the failed processors.
    public func placement() throws -> (allocation: Allocator.Result, failed: Set<String>, bindings: [String: String]) {
        let allocation = try Allocator.allocate(definition, remembered: try store.allocations())
        let failed = Set(try store.processorStates().values.filter { $0.state == .failed }.map(\.processor))
        return (allocation, failed, Placement.bind(definition, remembered: try store.bindings(), failed: failed))
    }

    public func plan() async throws -> Plan {
        try reconciler.plan(try await desired().state, ledger: volumeLedger)
    }

    /// Converges libvirt to the definition under the platform lock; returns what it changed.
    @discardableResult
    public func apply(cause: String, progress: @escaping (Int, Int, Change) -> Void = { _, _, _ in }) async throws -> Plan {
        try await store.exclusively {
            let moving = try store.unfinishedFailovers()
            try refuseDuringFailover(moving)
            // Fails here, before anything changes, when a host cannot filter what guests send.
            try PortSecurity.requireEnforceable(hosts: definition.hosts.map { ($0.name, $0.uri) })
            // Fails here, before anything changes, when the host has no nftables.
            let services = definition.services?.isEmpty == false ? try ServiceController(definition: definition, store: store) : nil
            if services != nil { try ServiceController.checkHost() }
            let (state, bindings, allocation) = try await desired()
            var plan = try reconciler.plan(state, ledger: volumeLedger)
            if !moving.isEmpty { plan = try onlyNewProcessors(plan, moving: moving) }
            try store.remember(bindings: bindings, newAllocations: allocation.new, actor: actor, cause: cause)
            // Port security before any NIC is plugged: the rules name the NICs' fixed tap devices.
            try programPortSecurity(allocation.nics, cause: cause)
            // The service table first: it also keeps everything but service flows off the VLANs
            // the host routes for services, before those networks come up.
            if let services {
                try services.programAll()
                try store.append(JournalEntry(actor: actor, cause: cause, object: "nftables table \(services.table)", action: .program,
                                              detail: (definition.services ?? []).map { "\($0.name) \($0.address):\($0.port)/\($0.transport)" }.joined(separator: ", ")))
            } else {
                try removeServiceTable(cause: cause)
            }
            // Processors this apply stops or restarts: `vpctl serve` must not take that for a failure.
            try store.clearMaintenance()
            try store.setMaintenance(plan.stoppedProcessors, reason: cause)
            defer { try? store.clearMaintenance() }
            let console = ConsoleDirectory(platform: definition.platform)
            let before = console.before()
            defer { try? console.noteMade(since: before) }
            try applyJournaled(plan, cause: cause, progress: progress)
            return plan
        }
    }

    /// Applies through the reconciler, one journal line per change and one for a rollback,
    /// written in batches (`ApplyRecorder`); the last batch is written with the last change, so
    /// that failing to write it rolls the apply back like any failed step.
    func applyJournaled(_ plan: Plan, cause: String, progress: @escaping (Int, Int, Change) -> Void) throws {
        let recorder = ApplyRecorder(store: store)
        var journaled = 0
        do {
            try reconciler.apply(plan, ledger: recorder, progress: progress) { change in
                try recorder.journal(JournalEntry(actor: actor, cause: cause, object: "\(change.object) on \(change.host)",
                                                  action: JournalEntry.Action(change.verb), detail: change.reasons.joined(separator: "; ")))
                journaled += 1
                if journaled == plan.changes.count { try recorder.flush() }
            }
        } catch let failed as ApplyFailed {
            try? recorder.journal(JournalEntry(actor: actor, cause: cause, object: "platform", action: .rollback, detail: failed.description))
            try? recorder.flush()
            throw failed
        }
    }

    /// A move in progress owns the personality's devices: converging now could undo half of it.
    /// Only while every move is `down` (waiting for a standby, nothing touched) may an apply add
    /// processors: that is how a platform with no spare left gets one.
    func refuseDuringFailover(_ moving: [FailoverRecord]) throws {
        guard moving.contains(where: { $0.step != .down }) else { return }
        let names = moving.map(\.personality).joined(separator: ", ")
        let moves = moving.map { "\($0.source) → \($0.target ?? "?"), step \($0.step.rawValue)" }.joined(separator: "; ")
        throw PlatformError(.conflict, "personality \(names)", "being moved (\(moves)); nothing was changed. "
            + "`vpctl serve` finishes it (`vpctl events` shows why it waits): a move that is down needs a standby "
            + "(`vpctl repair <processor>`, or add one to the definition and apply), one awaiting a fence needs "
            + "`vpctl fence <processor> --confirm`, and `vpctl failover --abort <personality>` stops one.")
    }

    /// While moves are down: the plan's new processors, and nothing else. Changes to the moves'
    /// own processors wait for the moves to end (the next apply makes them); any other change is
    /// refused, with nothing changed.
    func onlyNewProcessors(_ plan: Plan, moving: [FailoverRecord]) throws -> Plan {
        let involved = Set(moving.flatMap { [$0.source] + ($0.target.map { [$0] } ?? []) }.map { "processor \($0)" })
        let other = plan.changes.filter { !involved.contains($0.object) }
        let refused = other.filter { !($0.verb == .create && $0.object.hasPrefix("processor ")) }
        guard refused.isEmpty else {
            let down = moving.map(\.personality).joined(separator: ", ")
            throw PlatformError(.conflict, "personality \(down)", "down, waiting for a standby: an apply may only add processors now, "
                              + "and this one would also \(refused.map(\.description).joined(separator: "; ")); nothing was changed")
        }
        return Plan(changes: other)
    }

    /// Removes everything the platform created (and nothing else), then forgets its bindings.
    @discardableResult
    public func destroy(cause: String, progress: @escaping (Int, Int, Change) -> Void = { _, _, _ in }) async throws -> Plan {
        try await store.exclusively {
            let plan = try reconciler.destroyPlan(ledger: volumeLedger)
            try removeServiceTable(cause: cause)
            try applyJournaled(plan, cause: cause, progress: progress)
            // After the NICs are gone: never a moment with a NIC and no rules.
            try removePortSecurity(cause: cause)
            try removeConsoleDirectory(cause: cause)
            try store.forgetPlatform(actor: actor, cause: cause)
            return plan
        }
    }
}

extension PlatformEngine {
    /// Removes the platform's nftables table if there is one. A host without nftables has none.
    func removeServiceTable(cause: String) throws {
        let services: ServiceController
        do { services = try ServiceController(definition: definition, store: store) } catch { return }
        guard try services.isInstalled() else { return }
        try services.remove()
        try store.append(JournalEntry(actor: actor, cause: cause, object: "nftables table \(services.table)", action: .delete,
                                      detail: "service IPs removed"))
    }
}
