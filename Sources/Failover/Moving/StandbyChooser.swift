/// Picks the processor that takes a personality: a spare (no personality, not failed, not the
/// source or the target of any unfinished move) that is ready for its role: running with its
/// agent ready if hot, shut off if cold. Same host first when preferred, then hot before cold,
/// then definition order.
public enum StandbyChooser {
    /// `booting`: running, but its agent is not ready yet; it is not chosen, and a move with no
    /// other choice waits for it rather than going down.
    public enum Readiness: Sendable, Equatable { case running, booting, off, unusable }
    public struct Choice: Sendable, Equatable {
        public var processor: String
        public var host: String
        public var hot: Bool
    }

    public static func choose(in view: PlatformView, from source: String, readiness: [String: Readiness],
                              reserved: Set<String>) -> Choice? {
        let sourceHost = view.hostOf[source]
        let candidates = spares(in: view, from: source, reserved: reserved).compactMap { index, name -> (Choice, [Int])? in
            guard let host = view.hostOf[name] else { return nil }
            let hot: Bool
            switch readiness[name] ?? .unusable {
            case .running: hot = true
            case .off: hot = false
            case .booting, .unusable: return nil
            }
            let away = view.preferSameHost && host != sourceHost ? 1 : 0
            return (Choice(processor: name, host: host, hot: hot), [away, hot ? 0 : 1, index])
        }
        return candidates.min { $0.1.lexicographicallyPrecedes($1.1) }?.0
    }

    /// Processors that could take a personality off `source`, with their definition index.
    public static func spares(in view: PlatformView, from source: String, reserved: Set<String>) -> [(Int, String)] {
        let carrying = Set(view.bindings.values)
        return view.processors.enumerated().filter { _, name in
            name != source && !carrying.contains(name) && !view.failed.contains(name) && !reserved.contains(name)
        }.map { ($0.offset, $0.element) }
    }
}
