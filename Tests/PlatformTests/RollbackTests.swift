import Foundation
import Libvirt
import PlatformEngine
import Reconciler
import Testing

/// Performs through the real performer but fails at one action index, having done nothing.
final class FaultInjector: ActionPerformer, @unchecked Sendable {
    let inner: any ActionPerformer
    let failAt: Int
    private let lock = NSLock()
    private(set) var performed: [Action] = []

    init(_ inner: any ActionPerformer, failAt: Int = .max) { self.inner = inner; self.failAt = failAt }

    func perform(_ action: Action, on host: String) throws -> Undo {
        lock.lock()
        let index = performed.count
        performed.append(action)
        lock.unlock()
        if index == failAt { throw InjectedFault(index: index, action: action.summary) }
        return try inner.perform(action, on: host)
    }
}

struct InjectedFault: Error, CustomStringConvertible {
    let index: Int, action: String
    var description: String { "injected fault at action \(index) (\(action))" }
}

/// Everything libvirt holds under a name prefix: each object's definition and whether it runs,
/// and each pool's volumes with their XML.
struct LibvirtSnapshot: Equatable {
    var networks: [String: String] = [:]
    var pools: [String: String] = [:]
    var volumes: [String: String] = [:]
    var domains: [String: String] = [:]

    init(_ conn: Connection, prefix: String) throws {
        for net in try conn.networks() where net.name.hasPrefix(prefix) {
            networks[net.name] = "\(try net.isActive()) " + (try net.xml())
        }
        for pool in try conn.storagePools() where pool.name.hasPrefix(prefix) {
            pools[pool.name] = "\(try pool.isActive()) " + (try pool.xml())
            if try pool.isActive() {
                for vol in try pool.volumes() { volumes["\(pool.name)/\(vol.name)"] = try vol.xml() }
            }
        }
        for dom in try conn.domains() where dom.name.hasPrefix(prefix) {
            domains[dom.name] = "\(try dom.isActive()) " + (try dom.xml(inactive: true))
        }
    }

    var isEmpty: Bool { networks.isEmpty && pools.isEmpty && volumes.isEmpty && domains.isEmpty }
}

extension ReconcileTests {
    /// An apply from nothing (2 networks, a pool and its volumes, 3 processors), with a fault at
    /// each of its actions in turn: after each failure libvirt holds exactly what it held before,
    /// and the store remembers no volume.
    @Test func aFaultAtAnyActionOfAnApplyLeavesLibvirtAsItWas() async throws {
        let (engine, _) = try engine()
        let conn = engine.connections["local"]!
        let plan = try await engine.plan()
        let actions = plan.changes.flatMap(\.actions).count
        #expect(actions >= 15, "networks, pool, marker, volumes and processors: \(actions) actions")
        let before = try LibvirtSnapshot(conn, prefix: u)
        #expect(before.isEmpty)
        for index in 0..<actions {
            let faulty = engine.reconciler.performing(through: FaultInjector(engine.reconciler.performer, failAt: index))
            #expect {
                try faulty.apply(plan, ledger: engine.volumeLedger)
            } throws: { error in
                (error as? ApplyFailed)?.cause.contains("injected fault at action \(index)") == true
                    && (error as? ApplyFailed)?.notUndone.isEmpty == true
            }
            #expect(try LibvirtSnapshot(conn, prefix: u) == before, "after a fault at action \(index)")
            #expect(try engine.store.createdVolumes().isEmpty, "after a fault at action \(index)")
        }
        // Without a fault the same plan applies.
        try engine.reconciler.apply(plan, ledger: engine.volumeLedger)
        #expect(try await engine.plan().isEmpty)
        try await engine.destroy(cause: "test")
    }

    /// An apply that changes a running platform (a new VLAN network, a new volume, every
    /// processor redefined and restarted for more memory), with a fault at each action: libvirt
    /// is back to the platform as it ran, definitions included.
    @Test func aFaultAtAnyActionOfAnUpdateLeavesLibvirtAsItWas() async throws {
        let (engine, _) = try engine()
        try await engine.apply(cause: "test")
        let conn = engine.connections["local"]!
        let changed = unique().replacingOccurrences(of: "memoryMiB: 128", with: "memoryMiB: 256")
            .replacingOccurrences(of: "        - { name: v2, capacity: 64MiB, format: qcow2 }",
                                  with: "        - { name: v2, capacity: 64MiB, format: qcow2 }\n        - { name: v3, capacity: 8MiB }")
            .replacingOccurrences(of: "    subnet: \(subnet(2))0/24\n", with: "    subnet: \(subnet(2))0/24\n  - name: side\n    id: 300\n    subnet: \(subnet(3))0/24\n")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("vp-rec-\(UUID().uuidString).yaml").path
        try changed.write(toFile: file, atomically: true, encoding: .utf8)
        let update = try PlatformEngine(file: file, store: engine.store) // same memory: same MACs
        let plan = try await update.plan()
        let actions = plan.changes.flatMap(\.actions)
        #expect(actions.contains { if case .stopDomain = $0 { return true } else { return false } }, "processors are restarted")
        #expect(actions.contains { if case .createVolume = $0 { return true } else { return false } })
        let before = try LibvirtSnapshot(conn, prefix: u)
        let volumesBefore = try engine.store.createdVolumes().map(\.name)
        for index in 0..<actions.count {
            let faulty = update.reconciler.performing(through: FaultInjector(update.reconciler.performer, failAt: index))
            #expect(throws: ApplyFailed.self) { try faulty.apply(plan, ledger: update.volumeLedger) }
            #expect(try LibvirtSnapshot(conn, prefix: u) == before, "after a fault at action \(index) (\(actions[index].summary))")
            #expect(try engine.store.createdVolumes().map(\.name) == volumesBefore)
        }
        try await engine.destroy(cause: "test")
    }

    /// What a user sees: the error names the failed action and says libvirt is as it was.
    @Test func aFailedApplySaysWhatFailedAndThatItWasUndone() async throws {
        let (engine, _) = try engine()
        let plan = try await engine.plan()
        let faulty = engine.reconciler.performing(through: FaultInjector(engine.reconciler.performer, failAt: 3))
        #expect {
            try faulty.apply(plan, ledger: engine.volumeLedger)
        } throws: { error in
            let text = "\(error)"
            return text.contains("failed: injected fault at action 3") && text.contains("the 3 changes made before it were undone, libvirt is as it was")
        }
        #expect(try conn(engine).networks().filter { $0.name.hasPrefix(u) }.isEmpty)
    }

    func conn(_ engine: PlatformEngine) -> Connection { engine.connections["local"]! }
}
