import Foundation

/// The kernel modules of one kernel version, as described by depmod's files in
/// /lib/modules/<version>: modules.dep (hard dependencies), modules.softdep ("pre:" soft
/// dependencies), modules.alias (to resolve soft dependencies named by alias) and modules.builtin.
public struct KernelModules: Sendable {
    /// A module to load, with its path relative to /lib/modules/<version>.
    public struct Module: Sendable, Equatable, CustomStringConvertible {
        public var name: String
        public var path: String
        /// Pulled in only as a soft dependency: a failure to load it must not stop the boot
        /// (e.g. crc32c_intel on a CPU without SSE4.2).
        public var optional: Bool
        public init(name: String, path: String, optional: Bool) {
            self.name = name; self.path = path; self.optional = optional
        }
        public var description: String { optional ? "\(name)?" : name }
    }

    /// Module path → paths it depends on.
    private let dependencies: [String: [String]]
    /// Module name → path.
    private let pathByName: [String: String]
    /// Module name → soft "pre:" dependencies (module names or aliases).
    private let softPre: [String: [String]]
    /// Exact alias → module names.
    private let aliases: [String: [String]]
    private let builtin: Set<String>
    /// For error messages.
    let source: String

    public init(modulesDep: String, softdep: String = "", alias: String = "", builtin: String = "",
                source: String = "modules.dep") {
        var dependencies: [String: [String]] = [:]
        var pathByName: [String: String] = [:]
        for line in modulesDep.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let path = String(line[..<colon]).trimmingCharacters(in: .whitespaces)
            guard !path.isEmpty else { continue }
            dependencies[path] = line[line.index(after: colon)...].split(separator: " ").map(String.init)
            pathByName[Self.name(ofPath: path)] = path
        }
        var softPre: [String: [String]] = [:]
        for line in softdep.split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            guard words.count >= 3, words[0] == "softdep" else { continue }
            var inPre = false
            for word in words.dropFirst(2) {
                if word.hasSuffix(":") { inPre = word == "pre:"; continue }
                if inPre { softPre[Self.normalize(words[1]), default: []].append(word) }
            }
        }
        var aliases: [String: [String]] = [:]
        for line in alias.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard words.count == 3, words[0] == "alias",
                  !words[1].contains(where: { "*?[".contains($0) }) else { continue }
            aliases[String(words[1]), default: []].append(Self.normalize(String(words[2])))
        }
        self.dependencies = dependencies
        self.pathByName = pathByName
        self.softPre = softPre
        self.aliases = aliases
        self.builtin = Set(builtin.split(separator: "\n").map { Self.name(ofPath: String($0)) })
        self.source = source
    }

    /// Reads depmod's files from `directory` (/lib/modules/<version>).
    public init(directory: String) throws {
        func read(_ name: String, required: Bool) throws -> String {
            let path = directory + "/" + name
            do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
                if required { throw ProcessorImageError.unreadable(path: path, cause: error.localizedDescription) }
                return ""
            }
        }
        self.init(modulesDep: try read("modules.dep", required: true),
                  softdep: try read("modules.softdep", required: false),
                  alias: try read("modules.alias", required: false),
                  builtin: try read("modules.builtin", required: false),
                  source: directory + "/modules.dep")
    }

    /// "kernel/drivers/crypto/crc32c-intel.ko" → "crc32c_intel".
    public static func name(ofPath path: String) -> String {
        var base = String(path.split(separator: "/").last ?? "")
        for suffix in [".xz", ".zst", ".gz"] where base.hasSuffix(suffix) { base.removeLast(suffix.count) }
        if base.hasSuffix(".ko") { base.removeLast(3) }
        return normalize(base)
    }

    static func normalize(_ name: String) -> String { name.replacingOccurrences(of: "-", with: "_") }

    /// The modules to insmod, in an order where every module comes after everything it needs.
    /// Built-in modules are skipped; an unknown module is an error.
    public func loadOrder(for wanted: [String]) throws -> [Module] {
        var order: [Module] = []
        var index: [String: Int] = [:]   // name → position in `order`

        func visit(path: String, optional: Bool) throws {
            let name = Self.name(ofPath: path)
            if let at = index[name] {
                if !optional { order[at].optional = false }
                return
            }
            for pre in softPre[name] ?? [] {
                for candidate in resolve(pre) { try visit(path: candidate, optional: true) }
            }
            for dependency in dependencies[path] ?? [] { try visit(path: dependency, optional: optional) }
            if path.hasSuffix(".xz") || path.hasSuffix(".zst") || path.hasSuffix(".gz") {
                throw ProcessorImageError.compressedModule(path: path)
            }
            index[name] = order.count
            order.append(Module(name: name, path: path, optional: optional))
        }

        for wantedName in wanted {
            let name = Self.normalize(wantedName)
            if let path = pathByName[name] {
                try visit(path: path, optional: false)
            } else if !builtin.contains(name) {
                throw ProcessorImageError.moduleNotFound(name: wantedName, modulesDep: source)
            }
        }
        return order
    }

    /// A soft dependency names a module or an alias; returns module paths (empty if built in).
    private func resolve(_ nameOrAlias: String) -> [String] {
        if let path = pathByName[Self.normalize(nameOrAlias)] { return [path] }
        return (aliases[nameOrAlias] ?? []).compactMap { pathByName[$0] }
    }
}
