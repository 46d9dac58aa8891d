import PlatformModel

/// Which processor carries which personality.
public enum Placement {
    /// Keeps every remembered binding whose personality and processor still exist and do not
    /// collide; gives each unbound personality the first free processor in definition order.
    /// Failed processors get no new personality (a remembered one stays until failover moves it).
    public static func bind(_ p: PlatformDefinition, remembered: [String: String], failed: Set<String> = []) -> [String: String] {
        let processors = p.processors.members.map(\.name)
        let defined = Set(processors)
        var bindings: [String: String] = [:]
        var taken = Set<String>()
        for person in p.personalities {
            if let proc = remembered[person.name], defined.contains(proc), taken.insert(proc).inserted {
                bindings[person.name] = proc
            }
        }
        var free = processors.filter { !taken.contains($0) && !failed.contains($0) }[...]
        for person in p.personalities where bindings[person.name] == nil {
            guard let proc = free.popFirst() else { break } // validation guarantees enough processors
            bindings[person.name] = proc
        }
        return bindings
    }
}
