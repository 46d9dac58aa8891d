import Yams

extension PlatformLoader {
    /// Bounds on what the loader reads, so no definition can make `plan` hang or exhaust memory.
    /// The largest platform planned for is 1,000 processors (`vp-bench control-plane`); its
    /// definition (with 900 personalities, 1,800 volumes) is ~270 KB and ~40,000 nodes; each limit
    /// leaves at least 10× room above that (checked by LoaderLimitsTests).
    public enum Limits {
        /// Largest definition file. Parsing 4 MiB of YAML takes about a second on the 2-core CI
        /// machine; the file is refused before it is read.
        public static let maxFileBytes = 4 << 20
        /// Most nodes (scalars, lists, mappings) once aliases are expanded. YAML aliases make a
        /// tree of 10⁹ nodes from 1 KiB ("billion laughs"); decoding walks the expanded tree, so
        /// it is measured first (in time linear in the text, see `measure`).
        public static let maxNodes = 500_000
        /// Deepest nesting of lists and mappings. The schema needs 7 (storage.pools[].volumes[].name);
        /// 32 leaves room for new sections. (libyaml itself stops at 1,000, which keeps Yams'
        /// recursive composer from overflowing the stack; the message is the same.)
        public static let maxDepth = 32
    }

    static func tooLargeMessage() -> String {
        "the file is larger than \(Limits.maxFileBytes) bytes, the limit for a platform definition"
    }

    static func tooDeepMessage() -> String {
        "lists and mappings are nested more than \(Limits.maxDepth) levels deep, the limit for a platform definition"
    }

    /// Counts the nodes of the expanded tree and checks its depth (the root mapping is level 1),
    /// stopping at the first limit. Returns the node count, or the limit broken and where.
    ///
    /// An alias is the very node it names, with that node's position in the file, and no two
    /// lists (or two mappings) start at the same position; so the size of a list or mapping is
    /// remembered by its position and each is walked once: the time is linear in the text, not in
    /// the expansion.
    static func measure(_ root: Node) -> Result<Int, ConfigLimitExceeded> {
        struct Position: Hashable { var isMapping: Bool; var line: Int; var column: Int }
        var known: [Position: (count: Int, height: Int)] = [:]
        var exceeded: ConfigLimitExceeded?

        /// (nodes, levels of lists and mappings) of the subtree; `depth` is the level of `node`.
        func walk(_ node: Node, depth: Int) -> (count: Int, height: Int) {
            let isMapping: Bool
            switch node {
            case .mapping: isMapping = true
            case .sequence: isMapping = false
            case .scalar, .alias: return (1, 0)
            }
            let position = node.mark.map { Position(isMapping: isMapping, line: $0.line, column: $0.column) }
            let seen = position.flatMap { known[$0] }
            var size = seen ?? (1, 1)
            if seen == nil {
                func add(_ child: Node) {
                    guard exceeded == nil else { return }
                    let (count, height) = walk(child, depth: depth + 1)
                    size = (min(size.count + count, Limits.maxNodes + 1), max(size.height, height + 1))
                }
                // The children in place: no array of them is made per list or mapping.
                if case .mapping(let mapping) = node { for (key, value) in mapping { add(key); add(value) } }
                if case .sequence(let sequence) = node { for child in sequence { add(child) } }
                if let position { known[position] = size }
            }
            if exceeded == nil, depth + size.height - 1 > Limits.maxDepth {
                exceeded = .init(line: node.mark?.line, message: tooDeepMessage())
            }
            if exceeded == nil, size.count > Limits.maxNodes {
                exceeded = .init(line: node.mark?.line, message: "the document has more than \(Limits.maxNodes) nodes once its "
                    + "aliases are expanded, the limit for a platform definition (is an alias repeated inside another?)")
            }
            return size
        }

        let (count, _) = walk(root, depth: 1)
        return exceeded.map { .failure($0) } ?? .success(count)
    }
}

struct ConfigLimitExceeded: Error {
    var line: Int?
    var message: String
}
