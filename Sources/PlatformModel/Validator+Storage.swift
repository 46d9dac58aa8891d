extension Validator {
    /// Largest volume, and largest total of one pool: 1 PiB. Far beyond any host directory, and it
    /// keeps every sum of sizes (pools, hosts) far from overflowing Int or UInt64.
    public static let maxVolumeBytes: UInt64 = 1 << 50
    static let maxVolumeText = "1024TiB"

    /// Checks storage pools and their volumes; returns the "pool/volume" names defined.
    static func storageIssues(_ p: PlatformDefinition, hostNames: Set<String>, issue: (String, String) -> Void,
                              checkName: (String, String, String) -> Void,
                              checkUnique: ([String], (Int) -> String, String) -> Void) -> Set<String> {
        var volumes: Set<String> = []
        let pools = p.storage?.pools ?? []
        let imageDirectory = PoolPathRules.normalised(p.processors.image ?? "/var/lib/virtualplatform/images/processor")
        var pathsByHost: [String: [(path: String, pool: String)]] = [:]
        checkUnique(pools.map(\.name), { "storage.pools[\($0)].name" }, "storage pool")
        for (i, sp) in pools.enumerated() {
            let base = "storage.pools[\(i)]"
            checkName("\(base).name", sp.name, "storage pool")
            if !hostNames.contains(sp.host) { issue("\(base).host", "unknown host '\(sp.host)'") }
            if let problem = PoolPathRules.notationProblem(sp.path) {
                issue("\(base).path", problem)
            } else if let problem = PoolPathRules.ownerProblem(sp.path, platform: p.platform, imageDirectory: imageDirectory) {
                issue("\(base).path", problem)
            } else {
                for other in pathsByHost[sp.host, default: []] {
                    if let problem = overlap(sp.path, other.path, other.pool, host: sp.host) { issue("\(base).path", problem) }
                }
                pathsByHost[sp.host, default: []].append((sp.path, sp.name))
            }
            checkUnique(sp.volumes.map(\.name), { "\(base).volumes[\($0)].name" }, "volume")
            var total: UInt64 = 0
            for (j, vol) in sp.volumes.enumerated() {
                let field = "\(base).volumes[\(j)]"
                checkName("\(field).name", vol.name, "volume")
                if let problem = capacityProblem(vol.capacity, poolTotal: &total) { issue("\(field).capacity", problem) }
                volumes.insert("\(sp.name)/\(vol.name)")
            }
        }
        return volumes
    }

    /// Two pools on one host must not share a directory: destroying one would delete the other's volumes.
    private static func overlap(_ path: String, _ other: String, _ otherPool: String, host: String) -> String? {
        if path == other { return "'\(path)' is also the directory of storage pool '\(otherPool)' on host '\(host)'" }
        let relation = PoolPathRules.isInside(path, other) ? "is inside" : PoolPathRules.isInside(other, path) ? "contains" : nil
        return relation.map { "'\(path)' \($0) the directory of storage pool '\(otherPool)' (\(other)) on host '\(host)'" }
    }

    /// Adds the capacity to the pool's total; why it is refused, if it is.
    private static func capacityProblem(_ text: String, poolTotal total: inout UInt64) -> String? {
        switch ByteSize.check(text) {
        case .failure(.notASize): return "'\(text)' is not a size like 64MiB or 2GiB"
        case .failure(.zero): return "'\(text)' must be larger than 0"
        case .failure(.tooLarge): return "'\(text)' is too large (more than 2^64 bytes)"
        case .success(let bytes) where bytes > maxVolumeBytes: return "'\(text)' is larger than a volume may be: at most \(maxVolumeText)"
        case .success(let bytes):
            let before = total
            total = min(total, maxVolumeBytes) + bytes // both ≤ 2^50: cannot overflow
            return before <= maxVolumeBytes && total > maxVolumeBytes ? "the pool's volumes add up to more than \(maxVolumeText)" : nil
        }
    }
}
