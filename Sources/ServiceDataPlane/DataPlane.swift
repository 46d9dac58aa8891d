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

    /// Replaces one service's lookup table in one transaction; established connections keep
    /// their backend (conntrack holds their NAT binding).
    public func update(table: String, service: ServiceRuleset.Service) throws {
        try nft.apply(NFTRuleset.replaceService(table: table, service))
    }

    public func remove(table: String) throws {
        try nft.apply(NFTRuleset.deleteTable(table))
    }

    public func hasTable(_ table: String) throws -> Bool {
        try nft.hasTable(family: NFTRuleset.family, name: table)
    }

    /// Slots per backend address in the kernel's lookup table of a service; nil when the table or
    /// the service's chain is missing.
    public func installedShares(table: String, chain: String) throws -> [String: Int]? {
        let answer: Data
        do { answer = try nft.query(NFTRuleset.listChain(table: table, chain: chain)) }
        catch NFTablesError.refused(let m) where m.contains("No such file or directory") { return nil }
        return try Self.shares(inListing: answer)
    }

    /// Parses `list chain` JSON: the pairs of the DNAT rule's anonymous map.
    static func shares(inListing data: Data) throws -> [String: Int] {
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let items = root["nftables"] as? [[String: Any]] else { return [:] }
        var counts: [String: Int] = [:]
        for item in items {
            guard let rule = item["rule"] as? [String: Any], let exprs = rule["expr"] as? [[String: Any]] else { continue }
            for e in exprs {
                guard let dnat = e["dnat"] as? [String: Any], let addr = dnat["addr"] as? [String: Any],
                      let map = addr["map"] as? [String: Any], let data = map["data"] as? [String: Any],
                      let set = data["set"] as? [Any] else { continue }
                for pair in set {
                    if let p = pair as? [Any], p.count == 2, let backend = p[1] as? String { counts[backend, default: 0] += 1 }
                }
            }
        }
        return counts
    }
}
