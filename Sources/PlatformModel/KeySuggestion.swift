/// "Did you mean …?" for an unknown key: the nearest known key by edit distance.
enum KeySuggestion {
    static func unknownKeyMessage(_ key: String, known: Set<String>) -> String {
        if key == "<<" { return "unknown key '<<' (YAML merge keys are not supported: write the keys out)" }
        if let near = nearest(key, in: known) { return "unknown key '\(key)' (did you mean '\(near)'?)" }
        let list = known.sorted()
        return list.isEmpty ? "unknown key '\(key)'" : "unknown key '\(key)'; known keys here: \(list.joined(separator: ", "))"
    }

    /// The closest known key, case-insensitively, if it is close enough to be a typo: at most one
    /// edit per three characters (so "standbys" → "standby", "treshold" → "threshold", but "cpu"
    /// suggests nothing rather than "host").
    static func nearest(_ key: String, in known: Set<String>) -> String? {
        let allowed = min(3, max(1, key.count / 3))
        let scored = known.map { (name: $0, distance: distance(key.lowercased(), $0.lowercased())) }
        return scored.filter { $0.distance <= allowed }.min { ($0.distance, $0.name) < ($1.distance, $1.name) }?.name
    }

    /// Optimal string alignment distance: insertions, deletions, substitutions and transpositions of neighbours.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var d = (0...a.count).map { i in (0...b.count).map { j in i == 0 ? j : (j == 0 ? i : 0) } }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
            }
        }
        return d[a.count][b.count]
    }
}
