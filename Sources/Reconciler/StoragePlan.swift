import LibvirtXML
import PlatformRender

/// Storage pools and volumes: created in a directory that is new, empty or already the
/// platform's; deleted volume by volume, only those the platform created.
extension Planner {
    static func planPools(host: String, platform: String, wanted: [DesiredState.Pool], actual: ActualState,
                          owned: Set<String>, owns: (String, String, String) -> Bool) -> (changes: [Change], problems: [String]) {
        var changes: [Change] = []
        var problems: [String] = []
        let marker = PoolOwnership.marker(platform: platform)
        for pool in wanted {
            let spec = pool.spec
            var reasons: [String] = []
            var actions: [Action] = []
            var files: [String]? // what the directory holds, when known
            var available: UInt64?
            if let have = actual.pools[spec.name] {
                guard owns("pool", have.name, have.uuid) else {
                    problems.append("storage pool \(spec.name) on \(host) exists in libvirt but was not created by this platform; "
                        + "rename the pool")
                    continue
                }
                guard have.path == spec.path else {
                    problems.append("storage pool \(spec.name) on \(host) exists in libvirt with directory \(have.path), the definition "
                        + "says \(spec.path); apply does not move a pool: set path back to \(have.path), or destroy the platform first")
                    continue
                }
                if have.active {
                    files = have.volumes.sorted()
                    available = have.availableBytes
                } else {
                    reasons.append("not running")
                    actions.append(.startPool(spec.name))
                }
            } else {
                switch actual.directories[spec.path] ?? .unknown("not looked at") {
                case .missing:
                    files = []
                    actions.append(.definePool(spec, build: true))
                case .present(let present, let free):
                    files = present
                    available = free
                    actions.append(.definePool(spec, build: false))
                case .usedBy(let other):
                    problems.append("storage pool \(spec.name) on \(host): directory \(spec.path) is already the directory of "
                        + "libvirt pool '\(other)'")
                    continue
                case .unknown(let why):
                    problems.append("storage pool \(spec.name) on \(host): cannot look at directory \(spec.path) (\(why)); "
                        + "it is not used unchecked")
                    continue
                }
                reasons.append("dir \(spec.path), \(pool.volumes.count) volumes")
                actions.append(.startPool(spec.name))
            }
            // A pool whose libvirt object this platform made (its UUID), holding no marker yet, was
            // made by a version that did not record volumes: the volumes the definition names are
            // the ones it created, and are adopted; any other file is still someone else's.
            // Sets: a pool's volumes are each looked up among its files.
            let present = files.map(Set.init)
            let adopting = actual.pools[spec.name] != nil && present?.contains(marker) == false
                ? pool.volumes.map(\.name).filter { name in present?.contains(name) == true && !owned.contains("\(spec.name)/\(name)") }
                : []
            let adopted = Set(adopting)
            if let files, let refusal = PoolOwnership.refusal(pool: spec.name, path: spec.path,
                                                               files: files.filter { !adopted.contains($0) }, platform: platform) {
                problems.append("\(refusal) (host \(host))")
                continue
            }
            if !adopting.isEmpty { reasons.append("volumes \(adopting.joined(separator: ", ")) of an earlier version are recorded as the platform's") }
            if present?.contains(marker) != true { actions.append(.claimPool(spec.name, adopting: adopting)) }
            let missing = pool.volumes.filter { present?.contains($0.name) != true }
            for vol in missing {
                if files != nil, actual.pools[spec.name] != nil { reasons.append("volume \(vol.name) is missing") }
                actions.append(.createVolume(pool: spec.name, vol))
            }
            let need = sum(missing.map(\.capacityBytes))
            if need == nil || available.map({ need! > $0 }) == true {
                let size = need.map { "\($0) bytes" } ?? "more than 2^64 bytes"
                let names = missing.map(\.name).joined(separator: ", ")
                problems.append("storage pool \(spec.name) on \(host): volumes \(names) need \(size), "
                    + "its directory has \(available.map(String.init) ?? "?") free")
            }
            if !actions.isEmpty {
                let verb: Change.Verb = actual.pools[spec.name] == nil ? .create : .update
                changes.append(Change(verb: verb, host: host, object: "storage pool \(spec.name)", reasons: reasons,
                                      actions: actions, phase: 0))
            }
        }

        let wantedNames = Set(wanted.map(\.spec.name))
        for pool in actual.pools.values.sorted(by: { $0.name < $1.name })
        where !wantedNames.contains(pool.name) && owns("pool", pool.name, pool.uuid) {
            changes.append(removal(of: pool, host: host, marker: marker, owned: owned))
        }
        return (changes, problems)
    }

    /// Deletes the volumes the platform created and its marker, then the pool; files it did not
    /// create stay, with their directory.
    static func removal(of pool: ActualState.Pool, host: String, marker: String, owned: Set<String>) -> Change {
        let ours = owned.filter { $0.hasPrefix("\(pool.name)/") }.map { String($0.dropFirst(pool.name.count + 1)) }.sorted()
        var actions: [Action] = pool.active ? [] : [.startPool(pool.name)]
        actions += (ours + [marker]).map { .deleteVolume(pool: pool.name, $0) }
        actions.append(.removePool(pool.name))
        var reasons = ["no longer defined; its \(ours.count) volumes are deleted" + (ours.isEmpty ? "" : " (\(PoolOwnership.list(ours)))")]
        if pool.active {
            let oursSet = Set(ours)
            let foreign = pool.volumes.filter { !oursSet.contains($0) && $0 != marker }.sorted()
            if !foreign.isEmpty {
                reasons.append("directory \(pool.path) and its \(foreign.count) files the platform did not create are left "
                    + "(\(PoolOwnership.list(foreign)))")
            }
        } else {
            reasons.append("files in \(pool.path) the platform did not create are left")
        }
        return Change(verb: .delete, host: host, object: "storage pool \(pool.name)", reasons: reasons, actions: actions, phase: 3)
    }

    /// nil on overflow.
    static func sum(_ sizes: [UInt64]) -> UInt64? {
        sizes.reduce(UInt64(0) as UInt64?) { total, size in
            guard let total else { return nil }
            let (value, overflow) = total.addingReportingOverflow(size)
            return overflow ? nil : value
        }
    }
}
