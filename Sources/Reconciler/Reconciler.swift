import Foundation
import Libvirt
import LibvirtXML
import PlatformRender
import SystemSupport

/// A volume the platform created: the only kind it deletes.
public struct VolumeRef: Hashable, Sendable, CustomStringConvertible {
    public var host: String, pool: String, volume: String
    public init(host: String, pool: String, volume: String) { self.host = host; self.pool = pool; self.volume = volume }
    public var description: String { "\(pool)/\(volume) on \(host)" }
}

/// Where the reconciler writes down the volumes it creates and deletes (the state store).
public protocol VolumeLedger: Sendable {
    func volumes() throws -> Set<VolumeRef>
    func created(_ volume: VolumeRef) throws
    func deleted(_ volume: VolumeRef) throws
}

/// Converges libvirt on every host to a desired state, and plans before it acts.
///
/// Only objects whose UUID the platform derived (see `StableUUID`) count as its own, so other
/// guests, networks and pools on a host are never touched, and only volumes it recorded as created
/// are deleted. The plan is recomputed from libvirt each time; an apply that fails is rolled back.
public struct Reconciler: Sendable {
    public let platform: String
    /// libvirt connection per host name.
    public let connections: [String: Connection]
    public let performer: any ActionPerformer

    public init(platform: String, connections: [String: Connection], performer: (any ActionPerformer)? = nil) {
        self.platform = platform; self.connections = connections
        self.performer = performer ?? LibvirtPerformer(platform: platform, connections: connections)
    }

    /// A reconciler that performs its actions through `performer` (e.g. one that injects faults).
    public func performing(through performer: any ActionPerformer) -> Reconciler {
        Reconciler(platform: platform, connections: connections, performer: performer)
    }

    /// The changes that would bring every host to `desired`. Throws `PlanRefused`, changing
    /// nothing, when they cannot be applied safely (a MAC or volume on a second running processor,
    /// a pool directory holding someone else's files, a bridge or subnet the host already uses, …).
    public func plan(_ desired: DesiredState, ledger: any VolumeLedger) throws -> Plan {
        let owned = try ledger.volumes()
        var changes: [Change] = []
        var problems: [String] = []
        var actuals: [String: ActualState] = [:]
        let wantedPools = desired.pools
        for host in connections.keys.sorted() {
            let actual = try ActualState.read(connections[host]!) { state in
                wantedPools.filter { $0.host == host && state.pools[$0.spec.name] == nil }.map(\.spec.path)
            }
            actuals[host] = actual
            let owns: (String, String, String) -> Bool = { kind, name, uuid in uuid == StableUUID.make(kind, platform, host, name) }
            let mine = Set(owned.filter { $0.host == host }.map { "\($0.pool)/\($0.volume)" })
            let planned = Planner.plan(host: host, desired: desired, actual: actual, owned: mine, owns: owns)
            changes += planned.changes
            problems += planned.problems
        }
        if HolderGuard.givesDevices(changes) {
            for host in actuals.keys { try actuals[host]!.readLive(connections[host]!) }
        }
        problems += HolderGuard.problems(changes: changes, desired: desired, actual: actuals)
        if !problems.isEmpty { throw PlanRefused(problems: problems) }
        return Plan(changes: changes.sorted { ($0.phase, $0.host) < ($1.phase, $1.host) })
    }

    /// The changes that remove everything the platform created and nothing else.
    public func destroyPlan(ledger: any VolumeLedger) throws -> Plan {
        try plan(DesiredState(platform: platform, networks: [], pools: [], processors: []), ledger: ledger)
    }

    /// Carries out a plan. Order, so that no MAC or volume is ever on two running processors:
    /// first everything that releases (processors removed or stopped, devices detached and
    /// released by the guest), then networks and storage, then processors (defined, devices
    /// attached, started), then the networks and pools no longer defined, volumes deleted last.
    /// When an action fails, every action performed before it is undone, newest first, and
    /// `ApplyFailed` says what failed and whether libvirt is back as it was.
    public func apply(_ plan: Plan, ledger: any VolumeLedger,
                      progress: (_ done: Int, _ total: Int, _ change: Change) -> Void = { _, _, _ in },
                      journal: (_ change: Change) throws -> Void = { _ in }) throws {
        var run = Run(performer: performer, ledger: ledger)
        do {
            let total = plan.changes.count
            var done = 0
            for change in plan.changes {
                for action in change.actions where action.releases { try run.perform(action, of: change) }
            }
            let teardown = plan.changes.filter { $0.actions.contains(where: \.tearsDownInfrastructure) }
            let rest = plan.changes.filter { !$0.actions.contains(where: \.tearsDownInfrastructure) }
            // Pools after networks: their volume deletions are the one thing no rollback brings back.
            let ordered = rest + teardown.filter { !$0.deletesVolumes } + teardown.filter(\.deletesVolumes)
            for change in ordered {
                for action in change.actions where !action.releases { try run.perform(action, of: change) }
                done += 1
                progress(done, total, change)
                try journal(change)
            }
        } catch {
            throw run.rollBack(after: error)
        }
    }

    /// One apply's performed actions, so they can be undone.
    private struct Run {
        let performer: any ActionPerformer
        let ledger: any VolumeLedger
        var undos: [Undo] = []
        var current = ""

        mutating func perform(_ action: Action, of change: Change) throws {
            current = "\(action.summary) (\(change.verb.rawValue) \(change.object) on \(change.host))"
            let undo = try performer.perform(action, on: change.host)
            switch action {
            case .createVolume(let pool, let spec) where undo.run != nil:
                let ref = VolumeRef(host: change.host, pool: pool, volume: spec.name)
                let ledger = self.ledger
                undos.append(undo.then { try ledger.deleted(ref) })
                try ledger.created(ref)
            case .claimPool(let pool, let adopting) where !adopting.isEmpty:
                // A pool of an earlier version: its volumes are recorded as the platform's now.
                let refs = adopting.map { VolumeRef(host: change.host, pool: pool, volume: $0) }
                let ledger = self.ledger
                undos.append(undo.then { for ref in refs { try ledger.deleted(ref) } })
                for ref in refs { try ledger.created(ref) }
            case .deleteVolume(let pool, let name) where undo.lost:
                undos.append(undo)
                try ledger.deleted(VolumeRef(host: change.host, pool: pool, volume: name))
            default:
                undos.append(undo)
            }
        }

        func rollBack(after error: Error) -> ApplyFailed {
            var undone = 0
            var notUndone: [String] = []
            for undo in undos.reversed() {
                if undo.lost { notUndone.append(undo.what); continue }
                guard let step = undo.run else { continue }
                do { try step(); undone += 1 } catch { notUndone.append("\(undo.what): \(error)") }
            }
            return ApplyFailed(failed: current.isEmpty ? "apply" : current, cause: "\(error)", undone: undone, notUndone: notUndone,
                               kind: ErrorKind(of: error))
        }
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

    /// What the action does, in a few words.
    public var summary: String {
        switch self {
        case .defineNetwork(let spec): return "define network \(spec.name)"
        case .startNetwork(let name): return "start network \(name)"
        case .addDHCPHost(let network, let host): return "add DHCP host \(host.mac) to network \(network)"
        case .removeDHCPHost(let network, let host): return "remove DHCP host \(host.mac) from network \(network)"
        case .removeNetwork(let name): return "remove network \(name)"
        case .recreateNetwork(let spec): return "recreate network \(spec.name)"
        case .definePool(let spec, _): return "define storage pool \(spec.name)"
        case .startPool(let name): return "start storage pool \(name)"
        case .claimPool(let name, let adopting):
            return "claim the directory of storage pool \(name)" + (adopting.isEmpty ? "" : " with its volumes \(adopting.joined(separator: ", "))")
        case .createVolume(let pool, let spec): return "create volume \(pool)/\(spec.name)"
        case .deleteVolume(let pool, let name): return "delete volume \(pool)/\(name)"
        case .removePool(let name): return "remove storage pool \(name)"
        case .defineDomain(let spec): return "define domain \(spec.name)"
        case .attachDevice(let name, _, _): return "attach a device to domain \(name)"
        case .detachDevice(let name, _, _): return "detach a device from domain \(name)"
        case .startDomain(let name): return "start domain \(name)"
        case .stopDomain(let name): return "stop domain \(name)"
        case .removeDomain(let name): return "remove domain \(name)"
        }
    }
}

extension Change {
    var deletesVolumes: Bool { actions.contains { if case .deleteVolume = $0 { return true } else { return false } } }
}

/// `plan` found what forbids applying: every problem, each naming the object and the cause.
public struct PlanRefused: KindedError, Sendable {
    public let problems: [String]
    /// What is already on the hosts forbids the change: a conflict, resolved by changing either.
    public var kind: ErrorKind { .conflict }
    public var description: String {
        (problems.count == 1 ? problems[0] : problems.map { "- \($0)" }.joined(separator: "\n")) + "\nNothing was changed."
    }
}
