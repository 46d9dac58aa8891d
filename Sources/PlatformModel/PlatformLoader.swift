import Foundation
import Yams

/// One problem in a platform definition, located in the file.
public struct ConfigIssue: Error, Sendable, Equatable, CustomStringConvertible, Codable {
    public var file: String
    public var line: Int?
    /// Where in the document, e.g. "personalities[1].nics[0].mac".
    public var field: String
    public var message: String

    public var description: String {
        "\(file)\(line.map { ":\($0)" } ?? ""): \(field.isEmpty ? "" : "\(field): ")\(message)"
    }
}

/// All problems found in a definition; nothing is applied while any exists.
public struct ConfigErrors: Error, Sendable, CustomStringConvertible {
    public var issues: [ConfigIssue]
    public init(issues: [ConfigIssue]) { self.issues = issues }
    public var description: String {
        "\(issues.count) problem\(issues.count == 1 ? "" : "s") in the platform definition:\n"
            + issues.map { "  \($0)" }.joined(separator: "\n")
    }
}

/// A parsed definition with the line of every field, so later checks can point into the file.
public struct LoadedPlatform: Sendable {
    public var definition: PlatformDefinition
    public var file: String
    let lines: [String: Int]
    public var nodeCount: Int { 0 }

    /// The line of a field path like "vlans[0].id" (or of its nearest parent that has one).
    public func line(of field: String) -> Int? {
        var path = field
        while true {
            if let line = lines[path] { return line }
            guard let cut = path.lastIndex(where: { $0 == "." || $0 == "[" }) else { return lines[""] }
            path = String(path[..<cut])
        }
    }

    public func issue(_ field: String, _ message: String) -> ConfigIssue {
        ConfigIssue(file: file, line: line(of: field), field: field, message: message)
    }
}

public enum PlatformLoader {
    public enum Limits { public static let maxFileBytes = 4 << 20; public static let maxNodes = 250_000; public static let maxDepth = 32 }
    public static func parse(_ data: Data, file: String) throws -> LoadedPlatform { try parse(String(decoding: data, as: UTF8.self), file: file) }
    /// Reads and decodes a definition file; throws `ConfigErrors` for syntax and type errors.
    public static func load(path: String) throws -> LoadedPlatform {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigErrors(issues: [ConfigIssue(file: path, line: nil, field: "", message: "cannot read the file: \(error.localizedDescription)")])
        }
        return try parse(text, file: path)
    }

    public static func parse(_ text: String, file: String) throws -> LoadedPlatform {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text, Resolver.basic)
        } catch let error as YamlError {
            throw ConfigErrors(issues: [ConfigIssue(file: file, line: yamlErrorLine(error), field: "", message: "invalid YAML: \(error)")])
        }
        guard let root else {
            throw ConfigErrors(issues: [ConfigIssue(file: file, line: 1, field: "", message: "the file is empty")])
        }
        var lines: [String: Int] = [:]
        index(root, path: "", into: &lines)
        do {
            let definition = try YAMLDecoder().decode(PlatformDefinition.self, from: root)
            return LoadedPlatform(definition: definition, file: file, lines: lines)
        } catch let error as DecodingError {
            let partial = LoadedPlatform(definition: .init(platform: "", hosts: [], processors: .init(vcpus: 0, memoryMiB: 0, members: []), vlans: [], personalities: []), file: file, lines: lines)
            throw ConfigErrors(issues: [decodingIssue(error, partial)])
        }
    }

    /// Records the line of every mapping value and sequence element under its dotted path.
    private static func index(_ node: Node, path: String, into lines: inout [String: Int]) {
        if let line = node.mark?.line { lines[path] = lines[path] ?? line }
        switch node {
        case .mapping(let mapping):
            for (key, value) in mapping {
                guard let name = key.string else { continue }
                let child = path.isEmpty ? name : "\(path).\(name)"
                if let line = key.mark?.line { lines[child] = line }
                index(value, path: child, into: &lines)
            }
        case .sequence(let sequence):
            for (i, element) in sequence.enumerated() { index(element, path: "\(path)[\(i)]", into: &lines) }
        default:
            break
        }
    }

    static func fieldPath(_ codingPath: [any CodingKey]) -> String {
        var path = ""
        for key in codingPath {
            if let i = key.intValue { path += "[\(i)]" } else { path += path.isEmpty ? key.stringValue : ".\(key.stringValue)" }
        }
        return path
    }

    private static func decodingIssue(_ error: DecodingError, _ loaded: LoadedPlatform) -> ConfigIssue {
        switch error {
        case .keyNotFound(let key, let context):
            let parent = fieldPath(context.codingPath)
            let field = parent.isEmpty ? key.stringValue : "\(parent).\(key.stringValue)"
            return loaded.issue(field, "required field is missing")
        case .typeMismatch(let type, let context):
            return loaded.issue(fieldPath(context.codingPath), "expected \(typeName(type))")
        case .valueNotFound(let type, let context):
            return loaded.issue(fieldPath(context.codingPath), "expected \(typeName(type)), found nothing")
        case .dataCorrupted(let context):
            return loaded.issue(fieldPath(context.codingPath), context.debugDescription)
        @unknown default:
            return loaded.issue("", "\(error)")
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type: return "an integer"
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array") { return "a list" }
            if name.hasPrefix("Dictionary") || name.hasSuffix("Def") || name.hasSuffix("Definition") { return "a mapping" }
            return name
        }
    }

    private static func yamlErrorLine(_ error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): return mark.line
        default: return nil
        }
    }
}
