import Foundation
import HostDoctor
import Libvirt
import PlatformModel
import PlatformRender
import ProcessorImage
import Reconciler
import ServiceControl
import StateStore

/// A loaded, validated platform with its state store and host connections: what `plan`,
/// `apply`, `destroy` and `status` work on.
public final class PlatformEngine: @unchecked Sendable {
    public let loaded: LoadedPlatform
    public var definition: PlatformDefinition { loaded.definition }
    public let store: StateStore
    public let connections: [String: Connection]
    public let reconciler: Reconciler
    let actor = "vpctl (pid \(ProcessInfo.processInfo.processIdentifier))"

    /// Loads and validates the file (throwing every problem at once), then opens the store and
    /// connects to every host. Nothing in libvirt is changed.
    public init(file: String, statePath: String? = nil) throws {
        loaded = try PlatformLoader.load(path: file)
        let issues = Validator.validate(loaded)
        if !issues.isEmpty { throw ConfigErrors(issues: issues) }
        let p = loaded.definition
        store = try StateStore(path: statePath ?? StateStore.defaultPath(platform: p.platform))
        var connections: [String: Connection] = [:]
        for (i, host) in p.hosts.enumerated() {
            do {
                connections[host.name] = try Connection(uri: host.uri)
            } catch {
                throw ConfigErrors(issues: [loaded.issue("hosts[\(i)].uri", "cannot reach host '\(host.name)': \(error)")])
            }
        }
        self.connections = connections
        reconciler = Reconciler(platform: p.platform, connections: connections)
    }

    deinit { connections.values.forEach { $0.close() } }

    /// The desired state, with the addresses and bindings it implies (not yet remembered).
    public func desired() async throws -> (state: DesiredState, bindings: [String: String], allocation: Allocator.Result) {
        let p = definition
        let allocation = try Allocator.allocate(p, remembered: try store.allocations())
        let failed = Set(try store.processorStates().values.filter { $0.state == .failed }.map(\.processor))
        let bindings = Placement.bind(p, remembered: try store.bindings(), failed: failed)
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
            if let type = host.domainType, type != "auto" { types[host.name] = type; continue }
            types[host.name] = try await DomainTypeProbe.resolve(connections[host.name]!, kernel: image.kernelPath)
        }
        let state = Renderer.render(p, allocations: allocation.nics, bindings: bindings, domainTypes: types, image: boot, failed: failed)
        return (state, bindings, allocation)
    }

    public func plan() async throws -> Plan {
        try reconciler.plan(try await desired().state)
    }

    /// Converges libvirt to the definition under the platform lock; returns what it changed.
    @discardableResult
    public func apply(cause: String, progress: @escaping (Int, Int, Change) -> Void = { _, _, _ in }) async throws -> Plan {
        try await store.exclusively {
            try refuseDuringFailover()
            // Fails here, before anything changes, when a host cannot filter what guests send.
            try PortSecurity.requireEnforceable(hosts: definition.hosts.map { ($0.name, $0.uri) })
            // Fails here, before anything changes, when the host has no nftables.
            let services = definition.services?.isEmpty == false ? try ServiceController(definition: definition, store: store) : nil
            if services != nil { try ServiceController.checkHost() }
            let (state, bindings, allocation) = try await desired()
            try store.remember(bindings: bindings, newAllocations: allocation.new, actor: actor, cause: cause)
            let plan = try reconciler.plan(state)
            // Port security before any NIC is plugged: the rules name the NICs' fixed tap devices.
            try programPortSecurity(allocation.nics, cause: cause)
            // The service table first: it also keeps everything but service flows off the VLANs
            // the host routes for services, before those networks come up.
            if let services {
                try services.programAll()
                try store.append(JournalEntry(actor: actor, cause: cause, object: "nftables table \(services.table)", action: "program",
                                              detail: (definition.services ?? []).map { "\($0.name) \($0.address):\($0.port)/\($0.protocolName)" }.joined(separator: ", ")))
            } else {
                try removeServiceTable(cause: cause)
            }
            // Processors this apply stops or restarts: `vpctl serve` must not take that for a failure.
            try store.clearMaintenance()
            try store.setMaintenance(plan.stoppedProcessors, reason: cause)
            defer { try? store.clearMaintenance() }
            try reconciler.apply(plan, progress: progress) { change in
                try store.append(JournalEntry(actor: actor, cause: cause, object: "\(change.object) on \(change.host)",
                                              action: change.verb.rawValue, detail: change.reasons.joined(separator: "; ")))
            }
            return plan
        }
    }

    /// A move in progress owns the personality's devices: converging now could undo half of it.
    func refuseDuringFailover() throws {
        let moving = try store.unfinishedFailovers()
        guard !moving.isEmpty else { return }
        let list = moving.map { "\($0.personality) (\($0.source) → \($0.target ?? "?"), step \($0.step.rawValue))" }
        throw EngineError("personality \(list.joined(separator: ", ")) is being moved; nothing was changed. `vpctl serve` finishes it (`vpctl events` shows why it waits): a move that is down needs a standby (`vpctl repair <processor>`), one awaiting a fence needs `vpctl fence <processor> --confirm`.")
    }

    /// Removes everything the platform created (and nothing else), then forgets its bindings.
    @discardableResult
    public func destroy(cause: String, progress: @escaping (Int, Int, Change) -> Void = { _, _, _ in }) async throws -> Plan {
        try await store.exclusively {
            let plan = try reconciler.destroyPlan()
            try removeServiceTable(cause: cause)
            try reconciler.apply(plan, progress: progress) { change in
                try store.append(JournalEntry(actor: actor, cause: cause, object: "\(change.object) on \(change.host)",
                                              action: change.verb.rawValue, detail: change.reasons.joined(separator: "; ")))
            }
            // After the NICs are gone: never a moment with a NIC and no rules.
            try removePortSecurity(cause: cause)
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
        try store.append(JournalEntry(actor: actor, cause: cause, object: "nftables table \(services.table)", action: "delete",
                                      detail: "service IPs removed"))
    }
}

public struct EngineError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
