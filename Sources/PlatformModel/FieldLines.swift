import Synchronization
import Yams

/// The line of every key and sequence element decoded, by field path ("vlans[0].id").
///
/// Worked out on the first question (an issue to locate), not while decoding: a definition
/// without problems is never asked, and building the table was ~22 % of decoding a
/// 1,000-processor definition on every no-op apply.
final class FieldLines: @unchecked Sendable {   // the nodes are only read; Yams does not mark Node Sendable
    /// A mapping or sequence the model decoded, at its field path.
    enum Decoded {
        case mapping(String, Node.Mapping)
        case sequence(String, Node.Sequence)
    }

    private let decoded: [Decoded]
    private let nodes: Int
    private let table = Mutex<[String: Int]?>(nil)

    /// `nodes`: the document's node count, more than the lines there are to record.
    init(_ decoded: [Decoded], nodes: Int) { self.decoded = decoded; self.nodes = nodes }

    subscript(path: String) -> Int? {
        table.withLock { table in
            if table == nil { table = build() }
            return table?[path]
        }
    }

    /// A mapping's line and its keys' lines, a sequence's and its elements', in decoding order;
    /// a path keeps the first line given to it, except that a key's own line always wins.
    private func build() -> [String: Int] {
        var lines: [String: Int] = [:]
        lines.reserveCapacity(nodes)
        for entry in decoded {
            switch entry {
            case .mapping(let base, let mapping):
                if let line = mapping.mark?.line, lines[base] == nil { lines[base] = line }
                for (key, _) in mapping {
                    guard let name = key.scalar?.string, let line = key.mark?.line else { continue }
                    lines[join(base, name)] = line
                }
            case .sequence(let base, let sequence):
                if let line = sequence.mark?.line, lines[base] == nil { lines[base] = line }
                for (i, element) in sequence.enumerated() {
                    let field = base + "[" + String(i) + "]"
                    if let line = element.mark?.line, lines[field] == nil { lines[field] = line }
                }
            }
        }
        return lines
    }
}
