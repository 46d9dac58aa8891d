import Foundation
import Libvirt
import LibvirtXML
import PlatformRender

/// Converges libvirt on every host to a desired state, and plans before it acts.
///
/// Only objects whose UUID the platform derived (see `StableUUID`) count as its own, so other
/// guests, networks and pools on a host are never touched. Every action is idempotent and the
/// plan is recomputed from libvirt each time, so an apply cut short is finished by the next one.
public struct Reconciler: Sendable {
    public let platform: String
    /// libvirt connection per host name.
    public let connections: [String: Connection]

    public init(platform: String, connections: [String: Connection]) {
        self.platform = platform; self.connections = connections
    }

    /// The changes that would bring every host to `desired`.
    /// Throws, changing nothing, when the plan would put a MAC on a second running processor.
    public func plan(_ desired: DesiredState) throws -> Plan {
        var changes: [Change] = []
        var actuals: [String: ActualState] = [:]
        for host in connections.keys.sorted() {
            let actual = try ActualState.read(connections[host]!)
            actuals[host] = actual
            changes += Planner.plan(host: host, desired: desired, actual: actual) { kind, name, uuid in
                uuid == StableUUID.make(kind, platform, host, name)
            }
        }
        try MACGuard.check(changes: changes, desired: desired, actual: actuals)
        return Plan(changes: changes.sorted { ($0.phase, $0.host) < ($1.phase, $1.host) })
    }

    /// The changes that remove everything the platform created and nothing else.
    public func destroyPlan() throws -> Plan {
        try plan(DesiredState(platform: platform, networks: [], pools: [], processors: []))
    }

    /// Carries out a plan. Order, so that no MAC or volume is ever on two running processors:
    /// first everything that releases (processors removed or stopped, devices detached), then
    /// networks and storage, then processors (defined, devices attached, started), and last the
    /// networks and pools no longer defined.
    public func apply(_ plan: Plan, progress: (_ done: Int, _ total: Int, _ change: Change) -> Void = { _, _, _ in },
                      journal: (_ change: Change) throws -> Void = { _ in }) throws {
        let releasing = plan.changes.filter { $0.actions.contains(where: \.releases) }
        let total = plan.changes.count
        var done = 0
        for change in releasing {
            for action in change.actions where action.releases { try perform(action, on: change.host) }
        }
        for change in plan.changes where !change.actions.contains(where: \.tearsDownInfrastructure) {
            for action in change.actions where !action.releases { try perform(action, on: change.host) }
            done += 1
            progress(done, total, change)
            try journal(change)
        }
        for change in plan.changes where change.actions.contains(where: \.tearsDownInfrastructure) {
            for action in change.actions where !action.releases { try perform(action, on: change.host) }
            done += 1
            progress(done, total, change)
            try journal(change)
        }
    }

    private func perform(_ action: Action, on host: String) throws {
        guard let conn = connections[host] else { throw ReconcileError("no connection to host '\(host)'") }
        switch action {
        case .defineNetwork(let spec):
            _ = try conn.defineNetwork(xml: spec.render())
        case .startNetwork(let name):
            let net = try conn.network(named: name)
            if try !net.isActive() { try net.start() }
        case .addDHCPHost(let name, let host):
            let net = try conn.network(named: name)
            try net.updateDHCPHost(.add, hostXML: host.render(), live: try net.isActive(), config: true)
        case .removeDHCPHost(let name, let host):
            let net = try conn.network(named: name)
            try net.updateDHCPHost(.delete, hostXML: host.render(), live: try net.isActive(), config: true)
        case .removeNetwork(let name):
            try removeNetwork(name, conn)
        case .recreateNetwork(let spec):
            try removeNetwork(spec.name, conn)
            try conn.defineNetwork(xml: spec.render()).start()
        case .definePool(let spec):
            let pool = try conn.defineStoragePool(xml: spec.render())
            try pool.build()
        case .startPool(let name):
            let pool = try conn.storagePool(named: name)
            if try !pool.isActive() { try pool.start() }
        case .createVolume(let poolName, let spec):
            let pool = try conn.storagePool(named: poolName)
            if try pool.volumeIfPresent(named: spec.name) == nil { _ = try pool.createVolume(xml: spec.render()) }
        case .removePool(let name):
            guard let pool = try conn.storagePoolIfPresent(named: name) else { return }
            if try !pool.isActive() { try pool.start() }
            for volume in try pool.volumes() { try volume.delete() }
            try pool.destroy()
            try? pool.delete() // removes the pool's directory when empty
            try pool.undefine()
        case .defineDomain(let spec):
            if let log = spec.serialLog {
                try FileManager.default.createDirectory(atPath: (log as NSString).deletingLastPathComponent,
                                                        withIntermediateDirectories: true)
            }
            _ = try conn.defineDomain(xml: spec.render())
        case .attachDevice(let name, let xml, let live):
            try conn.domain(named: name).attachDevice(xml: xml, live ? [.live, .config] : .config)
        case .detachDevice(let name, let xml, let live):
            try conn.domain(named: name).detachDevice(xml: xml, live ? [.live, .config] : .config)
        case .startDomain(let name):
            let dom = try conn.domain(named: name)
            if try !dom.isActive() { try dom.start() }
        case .stopDomain(let name):
            let dom = try conn.domain(named: name)
            if try dom.isActive() { try dom.destroy() }
        case .removeDomain(let name):
            guard let dom = try conn.domainIfPresent(named: name) else { return }
            if try dom.isActive() { try dom.destroy() }
            try dom.undefine()
        }
    }

    private func removeNetwork(_ name: String, _ conn: Connection) throws {
        guard let net = try conn.networkIfPresent(named: name) else { return }
        if try net.isActive() { try net.destroy() }
        try net.undefine()
    }
}

extension Action {
    /// Actions that take something away from a processor; they run before anything is given.
    var releases: Bool {
        switch self {
        case .removeDomain, .detachDevice, .stopDomain: return true
        default: return false
        }
    }

    var tearsDownInfrastructure: Bool {
        switch self {
        case .removeNetwork, .removePool: return true
        default: return false
        }
    }
}

public struct ReconcileError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
