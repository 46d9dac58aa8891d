import Foundation
import PlatformModel
import ServiceDataPlane
import StateStore
import SystemSupport

/// Keeps the platform's nftables table in step with its services and their health. One per
/// process that changes health (`vpctl apply`, `vpctl serve`, a planned move).
public final class ServiceController: @unchecked Sendable {
    public let definition: PlatformDefinition
    public let store: any PlatformStore
    private let dataPlane: DataPlane
    private let lock = NSLock()
    /// One sync at a time: a declaration and the move's first step both ask for one at once.
    private let syncing = NSLock()
    /// What this controller last put in the kernel, per service name.
    private var installed: [String: ServiceRuleset.Service] = [:]
    private var catalog: ServiceCatalog?

    /// Fails with a clear error when nftables is not on this host.
    public init(definition: PlatformDefinition, store: any PlatformStore) throws {
        self.definition = definition
        self.store = store
        dataPlane = try DataPlane()
    }

    /// What the host must offer before a platform with service IPs is applied.
    public static func checkHost() throws {
        let forwarding = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_forward", encoding: .utf8)) ?? "0"
        guard forwarding.hasPrefix("1") else {
            throw PlatformError(.unavailable, "this host", "service IPs need IPv4 forwarding, and it is off: run `sysctl -w net.ipv4.ip_forward=1` (scripts/bootstrap-host.sh sets it); nothing was changed")
        }
        _ = try Conntrack.established(Conntrack.Flow(service: "127.0.0.1", port: 1, l4: "tcp", backend: "127.0.0.1"))
    }

    public var table: String { ServiceRuleset.tableName(platform: definition.platform) }

    public func currentCatalog() throws -> ServiceCatalog {
        try lock.withLock {
            if let catalog { return catalog }
            // The remembered addresses, and for NICs not applied yet the ones apply would give.
            let allocations = try Allocator.allocate(definition, remembered: try store.allocations()).nics
            let c = try ServiceCatalog(definition: definition, allocations: allocations)
            catalog = c
            return c
        }
    }

    /// Writes the whole table from the current health, in one transaction.
    public func programAll() throws {
        let catalog = try currentCatalog()
        let health = try ServiceHealth.read(definition: definition, store: store)
        let ruleset = catalog.ruleset(health: health)
        try lock.withLock {
            try dataPlane.program(ruleset)
            installed = Dictionary(uniqueKeysWithValues: ruleset.services.map { ($0.name, $0) })
        }
    }

    /// Brings each service whose healthy members changed up to date: the members' chains are
    /// switched in one small transaction, the flows of backends that left are forgotten so their
    /// clients' next packets reach a healthy backend, and the fallbacks are refreshed. Returns the
    /// services changed.
    @discardableResult
    public func sync() throws -> [String] {
        syncing.lock()
        defer { syncing.unlock() }
        let catalog = try currentCatalog()
        guard !catalog.entries.isEmpty else { return [] }
        let started = ContinuousClock.now
        let health = try ServiceHealth.read(definition: definition, store: store)
        if lock.withLock({ installed.isEmpty }) { try programAll(); return catalog.entries.map(\.name) }
        var changed: [String] = []
        for entry in catalog.entries {
            let before = lock.withLock { installed[entry.name] }
            let healthy = health.healthy(in: entry)
            // The rules follow from the members' health alone: unchanged health, nothing to do
            // (this runs every second in `serve`; the rules cost a Maglev table per member).
            if let before, before.healthy == entry.members.map({ healthy.contains($0.personality) }) { continue }
            let rules = catalog.rules(for: entry, healthy: healthy)
            guard let before, before.sameLayout(as: rules) else { try programAll(); return catalog.entries.map(\.name) }
            guard before != rules else { continue }
            // Members first (a one-rule change each), then their old flows are forgotten, then the
            // fallbacks are refreshed: the first step is what new flows depend on.
            let switched = try lock.withLock {
                try dataPlane.switchMembers(table: catalog.table, from: before, to: rules)
                return Date()
            }
            let switchMs = (ContinuousClock.now - started).milliseconds
            let serving = { (r: ServiceRuleset.Service) in Set(r.shares.filter { $0.value > 0 }.map(\.key)) }
            let left = serving(before).subtracting(serving(rules)), joined = serving(rules).subtracting(serving(before))
            for backend in left.sorted() {
                try Conntrack.forget(flow(entry, backend))
            }
            let refreshStart = ContinuousClock.now
            try lock.withLock {
                try dataPlane.refreshFallbacks(table: catalog.table, from: before, to: rules)
                // Only now: had anything above failed, the next sync does it all again (every step repeats safely).
                installed[entry.name] = rules
            }
            let refreshMs = (ContinuousClock.now - refreshStart).milliseconds
            changed.append(entry.name)
            let names = { (backends: Set<String>) in
                entry.members.filter { backends.contains($0.backend) }.map { "\($0.personality) (\($0.backend))" }.joined(separator: ", ")
            }
            var what: [String] = []
            if !left.isEmpty { what.append("\(names(left)) out") }
            if !joined.isEmpty { what.append("\(names(joined)) in") }
            // The event's time is when the members' switch was in the kernel.
            try store.record(PlatformEvent(
                time: switched, kind: .serviceTable,
                detail: "\(entry.name): \(what.isEmpty ? "fallbacks refreshed" : what.joined(separator: "; ")); members switched \(Int(switchMs)) ms after the health change was seen (one transaction), fallbacks refreshed in \(Int(refreshMs)) ms",
                durationMs: switchMs))
        }
        return changed
    }

    /// Established connections to a personality's backends across every service it serves.
    public func establishedFlows(of personality: String) throws -> Int {
        let catalog = try currentCatalog()
        var total = 0
        for entry in catalog.entries {
            for m in entry.members where m.personality == personality {
                total += try Conntrack.established(flow(entry, m.backend))
            }
        }
        return total
    }

    public func serves(_ personality: String) -> Bool {
        (definition.services ?? []).contains { $0.members.contains(personality) }
    }

    public func isInstalled() throws -> Bool { try dataPlane.hasTable(table) }

    /// Removes the platform's table (and with it every service IP).
    public func remove() throws {
        try lock.withLock {
            try dataPlane.remove(table: table)
            installed = [:]
        }
    }

    /// Slots per backend address in the kernel, per service (nil: not installed).
    public func installedShares() throws -> [String: [String: Int]?] {
        let catalog = try currentCatalog()
        var result: [String: [String: Int]?] = [:]
        for entry in catalog.entries {
            result[entry.name] = try dataPlane.installedShares(table: catalog.table, chain: entry.chain)
        }
        return result
    }


    private func flow(_ entry: ServiceCatalog.Entry, _ backend: String) -> Conntrack.Flow {
        Conntrack.Flow(service: entry.definition.address, port: entry.definition.port, l4: entry.definition.transport.rawValue,
                       backend: backend)
    }
}
