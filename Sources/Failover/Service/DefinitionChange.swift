import PlatformModel

/// What a reload of the definition changed, for the log, the journal and the admin API.
public struct DefinitionChange: Sendable, Equatable, Codable {
    public var processorsAdded: [String]
    public var processorsRemoved: [String]
    public var personalitiesAdded: [String]
    public var personalitiesRemoved: [String]
    /// Other top-level sections whose contents changed (vlans, storage, standby, failover, …).
    public var sectionsChanged: [String]

    public init(from old: PlatformDefinition, to new: PlatformDefinition) {
        func added(_ a: [String], _ b: [String]) -> [String] { b.filter { !Set(a).contains($0) } }
        let (oldProcessors, newProcessors) = (old.processors.members.map(\.name), new.processors.members.map(\.name))
        let (oldPersonalities, newPersonalities) = (old.personalities.map(\.name), new.personalities.map(\.name))
        processorsAdded = added(oldProcessors, newProcessors)
        processorsRemoved = added(newProcessors, oldProcessors)
        personalitiesAdded = added(oldPersonalities, newPersonalities)
        personalitiesRemoved = added(newPersonalities, oldPersonalities)
        var sections: [String] = []
        if old.macPrefix != new.macPrefix { sections.append("macPrefix") }
        if old.processors != new.processors && processorsAdded.isEmpty && processorsRemoved.isEmpty { sections.append("processors") }
        if old.vlans != new.vlans { sections.append("vlans") }
        if old.storage != new.storage { sections.append("storage") }
        if old.personalities != new.personalities && personalitiesAdded.isEmpty && personalitiesRemoved.isEmpty {
            sections.append("personalities")
        }
        if old.standby != new.standby { sections.append("standby") }
        if old.failover != new.failover { sections.append("failover") }
        sectionsChanged = sections
    }

    public var isEmpty: Bool {
        processorsAdded.isEmpty && processorsRemoved.isEmpty && personalitiesAdded.isEmpty && personalitiesRemoved.isEmpty
            && sectionsChanged.isEmpty
    }

    /// "processors +p5 -p2; standby changed", or "nothing changed".
    public var summary: String {
        func list(_ what: String, _ plus: [String], _ minus: [String]) -> String? {
            let items = plus.map { "+\($0)" } + minus.map { "-\($0)" }
            return items.isEmpty ? nil : "\(what) \(items.joined(separator: " "))"
        }
        let parts = [list("processors", processorsAdded, processorsRemoved),
                     list("personalities", personalitiesAdded, personalitiesRemoved)].compactMap { $0 }
            + sectionsChanged.map { "\($0) changed" }
        return parts.isEmpty ? "nothing changed" : parts.joined(separator: "; ")
    }
}

/// What a running service cannot take from a reloaded definition, as problems located in the
/// file: each would need what the service set up once, at its start.
enum ReloadRules {
    /// `carriers`: processors that carry a personality or take part in an unfinished move.
    static func refusals(running old: PlatformDefinition, loaded: LoadedPlatform, carriers: Set<String>) -> [ConfigIssue] {
        let new = loaded.definition
        var issues: [ConfigIssue] = []
        if new.platform != old.platform {
            issues.append(loaded.issue("platform", "is '\(new.platform)', the service runs '\(old.platform)': a reload cannot rename the platform"))
        }
        if new.hosts != old.hosts {
            issues.append(loaded.issue("hosts", "changed: the service watches the hosts it started with; restart vpctl serve to change them"))
        }
        if new.failover?.heartbeat != old.failover?.heartbeat {
            issues.append(loaded.issue("failover.heartbeat", "changed: heartbeat settings take effect when vpctl serve restarts"))
        }
        if new.services != old.services {
            issues.append(loaded.issue("services", "changed: service health checks are set up when vpctl serve starts; restart it to change services"))
        }
        let kept = Set(new.processors.members.map(\.name))
        for name in old.processors.members.map(\.name) where !kept.contains(name) && carriers.contains(name) {
            issues.append(loaded.issue("processors.members", "processor '\(name)' is missing, but it carries a personality or takes part in an unfinished move"))
        }
        return issues
    }
}
