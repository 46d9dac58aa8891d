/// Picks the processor that takes a personality: a spare (no personality, not failed, not
/// already promised to another move) that is ready for its role: running if hot, shut off if cold.
/// Same host first when preferred, then hot before cold, then definition order.
public enum StandbyChooser {
    public enum Readiness: Sendable, Equatable { case running, off, unusable }
    public struct Choice: Sendable, Equatable {
        public var processor: String
        public var host: String
        public var hot: Bool
    }

    public static func choose(in view: PlatformView, from source: String, readiness: [String: Readiness],
                              reserved: Set<String>) -> Choice? {
        let sourceHost = view.hostOf[source]
        let carrying = Set(view.bindings.values)
        let candidates = view.processors.enumerated().compactMap { index, name -> (Choice, [Int])? in
            guard name != source, !carrying.contains(name), !view.failed.contains(name), !reserved.contains(name),
                  let host = view.hostOf[name] else { return nil }
            let hot: Bool
            switch readiness[name] ?? .unusable {
            case .running: hot = true
            case .off: hot = false
            case .unusable: return nil
            }
            let away = view.preferSameHost && host != sourceHost ? 1 : 0
            return (Choice(processor: name, host: host, hot: hot), [away, hot ? 0 : 1, index])
        }
        return candidates.min { $0.1.lexicographicallyPrecedes($1.1) }?.0
    }
}
