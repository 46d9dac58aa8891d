/// The other checks of one run of the fault matrix, pure: disk markers, false declarations,
/// silences of a service, and the run's verdict.

/// What the agent showed of a personality's marker after a run.
public enum MarkerReading: Sendable, Equatable {
    /// The marker file's contents (nil: the disk has none).
    case found(String?)
    /// The agent or the disk could not be read: the marker counts as lost (nothing proves it is kept).
    case unreadable(String)
}

public enum MarkerCheck {
    /// Personalities whose disk does not show the marker written before the fault, each with
    /// what was found instead.
    public static func lost(written: [String: String], read: [String: MarkerReading]) -> [String] {
        written.keys.sorted().compactMap { personality in
            let expected = written[personality]!
            switch read[personality] {
            case .found(let marker?) where marker == expected: return nil
            case .found(let marker?): return "\(personality): marker is \"\(marker)\", not \"\(expected)\""
            case .found(nil): return "\(personality): no marker on the disk"
            case .unreadable(let why): return "\(personality): marker not readable (\(why))"
            case nil: return "\(personality): marker not read"
            }
        }
    }
}

/// A failure declared by the failover service, as its move journal records it.
public struct Declaration: Sendable, Equatable {
    public var processor: String
    public var personality: String
    /// An administrator's planned move is not a declaration of failure.
    public var planned: Bool
    public init(processor: String, personality: String, planned: Bool) {
        self.processor = processor; self.personality = personality; self.planned = planned
    }
}

public enum DeclarationCheck {
    /// Declarations of processors the fault may not bring down: any processor the bench did not
    /// fault, and (for faults that must not cause a failover: one adapter down, libvirtd
    /// restarted) the faulted one too. `mayDeclare` lists the processors the fault kills or hangs.
    public static func falseDeclarations(_ declarations: [Declaration], mayDeclare: Set<String>) -> [Declaration] {
        declarations.filter { !$0.planned && !mayDeclare.contains($0.processor) }
    }
}

/// One heartbeat (or request) sent to a service address during a run.
public struct Probe: Sendable, Equatable {
    public var at: Double
    public var answered: Bool
    public init(at: Double, answered: Bool) { self.at = at; self.answered = answered }
}

public enum ServiceWatch {
    /// The longest time in [from, to] with no answered probe: from `from` to the first answer,
    /// between answers, and from the last answer to `to`. `to - from` when nothing answered.
    public static func longestSilence(_ probes: [Probe], from: Double, to: Double) -> Double {
        let answers = probes.filter { $0.answered && $0.at >= from && $0.at <= to }.map(\.at).sorted()
        var edges = [from] + answers + [to]
        edges.sort()
        return zip(edges, edges.dropFirst()).map { $1 - $0 }.max() ?? 0
    }
}

/// What one run found; `survived` only when every check could be made and every one passed.
public struct RunVerdict: Sendable, Equatable, Codable {
    public var doubleCarriers: [String]
    public var lostMarkers: [String]
    public var falseDeclarations: [String]
    /// Samples in which some domain could not be read.
    public var uncheckedSamples: Int
    public var samples: Int
    /// What else went wrong: the fault's own expectations (moved, served, not moved, answered).
    public var problems: [String]

    public init(doubleCarriers: [String], lostMarkers: [String], falseDeclarations: [String], uncheckedSamples: Int,
                samples: Int, problems: [String]) {
        self.doubleCarriers = doubleCarriers; self.lostMarkers = lostMarkers; self.falseDeclarations = falseDeclarations
        self.uncheckedSamples = uncheckedSamples; self.samples = samples; self.problems = problems
    }

    /// Fail closed: a run with unchecked samples, or with no sample at all, did not prove it survived.
    public var survived: Bool {
        doubleCarriers.isEmpty && lostMarkers.isEmpty && falseDeclarations.isEmpty && problems.isEmpty
            && uncheckedSamples == 0 && samples > 0
    }
}
