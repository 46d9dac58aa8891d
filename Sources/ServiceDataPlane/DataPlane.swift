import Foundation
import NFTables

/// The platform's nftables table: programs it, swaps one service's lookup table, reads back what
/// the kernel holds, removes it.
public final class DataPlane: Sendable {
    public let nft: NFTables

    public init() throws { nft = try NFTables() }

    /// Creates or replaces the whole table in one transaction.
    public func program(_ ruleset: ServiceRuleset) throws {
        try nft.apply(NFTRuleset.replaceTable(ruleset))
    }

    /// The fast half of a health change: members that left go to their fallback chain, members
    /// that came back send to themselves again: one transaction of a few hundred bytes, so the
    /// change is in the kernel within milliseconds. Established connections keep their backend
    /// (conntrack holds their NAT binding). Both services must have the same layout (`sameLayout`);
    /// otherwise program the table.
    public func switchMembers(table: String, from old: ServiceRuleset.Service, to new: ServiceRuleset.Service) throws {
        precondition(old.sameLayout(as: new), "a changed layout needs program(_:)")
        let flips = NFTRuleset.healthChanges(table: table, from: old, to: new)
        if !flips.isEmpty { try nft.apply(flips) }
    }

    /// The slow half: fallback chains that no longer fit the health of the others, one transaction.
    public func refreshFallbacks(table: String, from old: ServiceRuleset.Service, to new: ServiceRuleset.Service) throws {
        let refresh = NFTRuleset.fallbackChanges(table: table, from: old, to: new)
        if !refresh.isEmpty { try nft.apply(refresh) }
    }

    public func remove(table: String) throws {
        try nft.apply(NFTRuleset.deleteTable(table))
    }

    /// The kernel's nftables generation: it changes with every change of any table, this one's included.
    public static func generation() throws -> UInt32 { try NFTables.generation() }

    public func hasTable(_ table: String) throws -> Bool {
        try nft.hasTable(family: NFTRuleset.family, name: table)
    }

    /// Slots per backend address in the kernel's lookup of a service (after health); nil when the
    /// table or the service's chain is missing.
    public func installedShares(table: String, chain: String) throws -> [String: Int]? {
        let answer: Data
        do { answer = try nft.query(NFTRuleset.listTable(table)) }
        catch NFTablesError.refused(let m) where m.contains("No such file or directory") { return nil }
        return try Self.shares(inListing: answer, chain: chain)
    }

    /// Follows a service's lookup in a `list table` JSON answer: slot → member chain → its backend,
    /// or its fallback chain's map entry for that slot.
    static func shares(inListing data: Data, chain service: String) throws -> [String: Int]? {
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let items = root["nftables"] as? [[String: Any]] else { return nil }
        var chains: Set<String> = []
        var rules: [String: [[String: Any]]] = [:]
        for item in items {
            if let chain = item["chain"] as? [String: Any], let name = chain["name"] as? String { chains.insert(name) }
            if let rule = item["rule"] as? [String: Any], let chain = rule["chain"] as? String,
               let exprs = rule["expr"] as? [[String: Any]] { rules[chain, default: []] += exprs }
        }
        guard chains.contains(service) else { return nil }
        func pairs(_ set: Any?) -> [(Int, Any)] {
            (set as? [Any] ?? []).compactMap { element -> (Int, Any)? in
                guard let pair = element as? [Any], pair.count == 2, let slot = pair[0] as? Int else { return nil }
                return (slot, pair[1])
            }
        }
        func fallbackMap(_ chain: String) -> [Int: String] {
            var map: [Int: String] = [:]
            for e in rules[chain] ?? [] {
                guard let dnat = e["dnat"] as? [String: Any], let addr = dnat["addr"] as? [String: Any],
                      let m = addr["map"] as? [String: Any], let data = m["data"] as? [String: Any] else { continue }
                for (slot, backend) in pairs(data["set"]) { if let b = backend as? String { map[slot] = b } }
            }
            return map
        }
        var counts: [String: Int] = [:]
        for e in rules[service] ?? [] {
            guard let vmap = e["vmap"] as? [String: Any], let data = vmap["data"] as? [String: Any] else { continue }
            var target: [String: (backend: String?, fallback: [Int: String]?)] = [:]
            for (slot, verdict) in pairs(data["set"]) {
                guard let chain = ((verdict as? [String: Any])?["goto"] as? [String: Any])?["target"] as? String else { continue }
                if target[chain] == nil {
                    let member = rules[chain]?.first
                    if let addr = (member?["dnat"] as? [String: Any])?["addr"] as? String { target[chain] = (addr, nil) }
                    else if let fb = (member?["goto"] as? [String: Any])?["target"] as? String { target[chain] = (nil, fallbackMap(fb)) }
                    else { target[chain] = (nil, [:]) }
                }
                if let b = target[chain]?.backend ?? target[chain]?.fallback?[slot] { counts[b, default: 0] += 1 }
            }
        }
        return counts
    }
}
