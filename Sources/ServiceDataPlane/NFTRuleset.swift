import NFTables

/// `ServiceRuleset` as nftables JSON commands.
///
/// Layout of the table (one per platform, family ip):
/// - `dnat_prerouting` / `dnat_output` (nat, dstnat): `ip daddr VIP <l4> dport P jump svc_<name>`;
///   output covers clients on the host itself.
/// - `svc_<name>`: `jhash ip saddr [. sport] mod M seed S vmap { slot : goto svc_<name>_m<i>, … }`,
///   the Maglev table over every member.
/// - `svc_<name>_m<i>`: `dnat to <member i>` while it is in; `goto svc_<name>_f<i>` while it is out.
/// - `svc_<name>_f<i>`: `dnat to jhash … map { slot : backend, … }` for member i's slots.
///   A health change rewrites only the one-rule member chains (a few hundred bytes, one
///   transaction); the fallbacks are refreshed afterwards. The maps are anonymous because
///   nftables 1.0.6 can neither declare a named map keyed by a hash in JSON nor list one declared
///   in its own syntax (it crashes).
/// - `conntrack_prerouting` / `conntrack_output` (raw): TCP service flows get a conntrack timeout
///   policy with a short TIME_WAIT, so a client opening a connection per request does not fill
///   conntrack with closed flows (seen here: 130 k entries and a collapsed DNAT rate).
/// - `isolation` (filter, forward): only connections NATed to a service cross the routed VLAN
///   bridges (judged on a connection's first packet; established ones pass at once); a service
///   without a healthy backend is refused at once instead of routed on.
/// - `refuse_output` (filter, output): the same refusal for clients on the host.
public enum NFTRuleset {
    public static let family = "ip"
    static let churnPolicy = "service_tcp"
    static let bridgesSet = "routed_bridges"

    /// Creates or replaces the whole table in one transaction.
    public static func replaceTable(_ r: ServiceRuleset) -> [JSONValue] {
        var c: [JSONValue] = []
        // "add" then "delete" so the delete never fails on a missing table; then build afresh.
        c.append(add("table", ["family": .string(family), "name": .string(r.table)]))
        c.append(["delete": ["table": ["family": .string(family), "name": .string(r.table)]]])
        c.append(add("table", ["family": .string(family), "name": .string(r.table)]))

        c.append(add("set", obj(r.table, ["name": .string(bridgesSet), "type": "ifname"])))
        if !r.routedBridges.isEmpty {
            c.append(add("element", obj(r.table, ["name": .string(bridgesSet), "elem": .array(r.routedBridges.map { .string($0) })])))
        }
        c.append(add("ct timeout", obj(r.table, ["name": .string(churnPolicy), "protocol": "tcp", "l3proto": "ip",
                                                 "policy": ["time_wait": 2, "close": 2]])))

        c.append(baseChain(r.table, "dnat_prerouting", type: "nat", hook: "prerouting", priority: -100))
        c.append(baseChain(r.table, "dnat_output", type: "nat", hook: "output", priority: -100))
        c.append(baseChain(r.table, "conntrack_prerouting", type: "filter", hook: "prerouting", priority: -300))
        c.append(baseChain(r.table, "conntrack_output", type: "filter", hook: "output", priority: -300))
        c.append(baseChain(r.table, "isolation", type: "filter", hook: "forward", priority: 0))
        c.append(baseChain(r.table, "refuse_output", type: "filter", hook: "output", priority: 0))

        for s in r.services {
            c += serviceChains(r.table, s)
            for chain in ["dnat_prerouting", "dnat_output"] {
                c.append(rule(r.table, chain, matchService(s) + [["jump": ["target": .string(s.chain)]]]))
            }
            if s.l4 == .tcp {
                for chain in ["conntrack_prerouting", "conntrack_output"] {
                    c.append(rule(r.table, chain, matchService(s) + [["ct timeout": .string(churnPolicy)]]))
                }
            }
        }
        let bridges: JSONValue = .string("@" + bridgesSet)
        // Established flows passed these rules with their first packet; checking them again per
        // packet cost ~10 % of the forwarding rate (bench service-throughput --diagnose).
        c.append(rule(r.table, "isolation", [match(["ct": ["key": "state"]], ["established", "related"], op: "in"), ["accept": nil]]))
        for direction in ["oifname", "iifname"] {
            c.append(rule(r.table, "isolation", [match(["meta": ["key": .string(direction)]], bridges),
                                                  match(["ct": ["key": "status"]], "dnat", op: "in"), ["accept": nil]]))
        }
        for direction in ["oifname", "iifname"] {
            c.append(rule(r.table, "isolation", [match(["meta": ["key": .string(direction)]], bridges), ["drop": nil]]))
        }
        for s in r.services {
            // Still addressed to the service IP after dstnat: no backend took it.
            let refuse: JSONValue = s.l4 == .tcp ? ["reject": ["type": "tcp reset"]] : ["reject": ["type": "icmp", "expr": "port-unreachable"]]
            c.append(rule(r.table, "isolation", matchService(s) + [refuse]))
            c.append(rule(r.table, "refuse_output", matchService(s) + [refuse]))
        }
        return c
    }

    /// The fast half of a health change: members that left go to their fallback chain, members
    /// that came back send to themselves again. Tiny, one transaction.
    public static func healthChanges(table: String, from old: ServiceRuleset.Service, to new: ServiceRuleset.Service) -> [JSONValue] {
        new.healthy.indices.filter { old.healthy[$0] != new.healthy[$0] }.flatMap { i in
            [flush(table, new.memberChain(i)), memberRule(table, new, i)]
        }
    }

    /// The slow half: fallbacks that no longer match the health of the other members.
    public static func fallbackChanges(table: String, from old: ServiceRuleset.Service, to new: ServiceRuleset.Service) -> [JSONValue] {
        new.fallback.indices.filter { old.fallback[$0] != new.fallback[$0] }.flatMap { i in
            [flush(table, new.fallbackChain(i))] + fallbackRule(table, new, i)
        }
    }

    public static func listTable(_ table: String) -> [JSONValue] {
        [["list": ["table": ["family": .string(family), "name": .string(table)]]]]
    }

    public static func deleteTable(_ table: String) -> [JSONValue] {
        [add("table", ["family": .string(family), "name": .string(table)]),
         ["delete": ["table": ["family": .string(family), "name": .string(table)]]]]
    }

    // MARK: Pieces

    static func serviceChains(_ table: String, _ s: ServiceRuleset.Service) -> [JSONValue] {
        var c: [JSONValue] = [add("chain", obj(table, ["name": .string(s.chain)]))]
        for i in s.backends.indices {
            c.append(add("chain", obj(table, ["name": .string(s.memberChain(i))])))
            c.append(add("chain", obj(table, ["name": .string(s.fallbackChain(i))])))
        }
        if s.primary.contains(where: { $0 >= 0 }) {
            let chains = s.backends.indices.map { JSONValue.object([("goto", ["target": .string(s.memberChain($0))])]) }
            var pairs: [JSONValue] = []
            pairs.reserveCapacity(s.primary.count)
            for (slot, m) in s.primary.enumerated() where m >= 0 { pairs.append(.array([.int(slot), chains[Int(m)]])) }
            c.append(rule(table, s.chain, [["vmap": ["key": hash(s), "data": ["set": .array(pairs)]]]]))
        }
        for i in s.backends.indices {
            c.append(memberRule(table, s, i))
            c += fallbackRule(table, s, i)
        }
        return c
    }

    static func memberRule(_ table: String, _ s: ServiceRuleset.Service, _ i: Int) -> JSONValue {
        s.healthy[i]
            ? rule(table, s.memberChain(i), [["dnat": ["addr": .string(s.backends[i])]]])
            : rule(table, s.memberChain(i), [["goto": ["target": .string(s.fallbackChain(i))]]])
    }

    /// None when no backend can take the member's slots (the isolation chain then refuses them).
    static func fallbackRule(_ table: String, _ s: ServiceRuleset.Service, _ i: Int) -> [JSONValue] {
        let backends = s.backends.map { JSONValue.string($0) }
        let pairs = s.fallback[i].filter { $0.backend >= 0 }.map { JSONValue.array([.int(Int($0.slot)), backends[Int($0.backend)]]) }
        guard !pairs.isEmpty else { return [] }
        return [rule(table, s.fallbackChain(i), [["dnat": ["addr": ["map": ["key": hash(s), "data": ["set": .array(pairs)]]]]]])]
    }

    static func hash(_ s: ServiceRuleset.Service) -> JSONValue {
        let saddr: JSONValue = ["payload": ["protocol": "ip", "field": "saddr"]]
        let key: JSONValue = s.hashSourcePort
            ? ["concat": [saddr, ["payload": ["protocol": .string(s.l4.rawValue), "field": "sport"]]]]
            : saddr
        return ["jhash": ["mod": .int(s.primary.count), "seed": .int(Int(s.seed)), "expr": key]]
    }

    static func flush(_ table: String, _ chain: String) -> JSONValue {
        ["flush": ["chain": ["family": .string(family), "table": .string(table), "name": .string(chain)]]]
    }

    static func matchService(_ s: ServiceRuleset.Service) -> [JSONValue] {
        [match(["payload": ["protocol": "ip", "field": "daddr"]], .string(s.address)),
         match(["payload": ["protocol": .string(s.l4.rawValue), "field": "dport"]], .int(s.port))]
    }

    static func match(_ left: JSONValue, _ right: JSONValue, op: String = "==") -> JSONValue {
        ["match": ["op": .string(op), "left": left, "right": right]]
    }

    static func rule(_ table: String, _ chain: String, _ expr: [JSONValue]) -> JSONValue {
        add("rule", ["family": .string(family), "table": .string(table), "chain": .string(chain), "expr": .array(expr)])
    }

    static func baseChain(_ table: String, _ name: String, type: String, hook: String, priority: Int) -> JSONValue {
        add("chain", obj(table, ["name": .string(name), "type": .string(type), "hook": .string(hook), "prio": .int(priority),
                                 "policy": "accept"]))
    }

    static func obj(_ table: String, _ fields: [(String, JSONValue)]) -> [(String, JSONValue)] {
        [("family", .string(family)), ("table", .string(table))] + fields
    }

    static func obj(_ table: String, _ fields: KeyValuePairs<String, JSONValue>) -> [(String, JSONValue)] {
        obj(table, fields.map { ($0.key, $0.value) })
    }

    static func add(_ kind: String, _ fields: [(String, JSONValue)]) -> JSONValue {
        .object([("add", .object([(kind, .object(fields))]))])
    }

    static func add(_ kind: String, _ fields: KeyValuePairs<String, JSONValue>) -> JSONValue {
        add(kind, fields.map { ($0.key, $0.value) })
    }
}
