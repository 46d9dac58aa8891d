import Foundation
import SystemSupport
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
public struct ConfigErrors: KindedError, Sendable {
    public var issues: [ConfigIssue]
    public var kind: ErrorKind { .invalidInput }
    public var object: String? { issues.first.map { "platform definition \($0.file)" } }
    /// The field when there is one problem (each issue names its own).
    public var field: String? { issues.count == 1 && !issues[0].field.isEmpty ? issues[0].field : nil }
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
    let lines: FieldLines
    /// Nodes of the document once aliases are expanded (see `PlatformLoader.Limits.maxNodes`).
    public var nodeCount = 0

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

/// Reads a definition: bounded (`Limits`), strict (unknown keys and ambiguous YAML 1.1 scalars are
/// errors, see `StrictDecoder` and `YAMLScalar`), and reporting every problem at once.
public enum PlatformLoader {
    /// Reads and decodes a definition file; throws `ConfigErrors` for syntax and type errors.
    public static func load(path: String) throws -> LoadedPlatform {
        func refuse(_ message: String) -> ConfigErrors {
            ConfigErrors(issues: [ConfigIssue(file: path, line: nil, field: "", message: message)])
        }
        let attributes: [FileAttributeKey: Any]
        do { attributes = try FileManager.default.attributesOfItem(atPath: path) } catch {
            throw refuse("cannot read the file: \(error.localizedDescription)")
        }
        // A device or FIFO could be read forever; its size says nothing.
        guard attributes[.type] as? FileAttributeType == .typeRegular else { throw refuse("is not a regular file") }
        if let size = attributes[.size] as? Int, size > Limits.maxFileBytes { throw refuse(tooLargeMessage()) }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw refuse("cannot read the file") }
        defer { try? handle.close() }
        let data: Data
        do { data = try handle.read(upToCount: Limits.maxFileBytes + 1) ?? Data() } catch {
            throw refuse("cannot read the file: \(error.localizedDescription)")
        }
        return try parse(data, file: path)
    }

    /// Decodes a definition from the bytes of a file (which may be anything: see Fuzz/).
    public static func parse(_ data: Data, file: String) throws -> LoadedPlatform {
        let fail = { (message: String) in ConfigErrors(issues: [ConfigIssue(file: file, line: nil, field: "", message: message)]) }
        if data.count > Limits.maxFileBytes { throw fail(tooLargeMessage()) }
        guard let text = String(data: data, encoding: .utf8) else { throw fail("the file is not UTF-8 text") }
        return try parse(text, file: file)
    }

    public static func parse(_ text: String, file: String) throws -> LoadedPlatform {
        func fail(_ line: Int?, _ message: String) -> ConfigErrors {
            ConfigErrors(issues: [ConfigIssue(file: file, line: line, field: "", message: message)])
        }
        if text.utf8.count > Limits.maxFileBytes { throw fail(nil, tooLargeMessage()) }
        if let line = ComplexKeyScan.firstComplexKey(in: text) { throw fail(line, ComplexKeyScan.message) }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text, Resolver.basic)
        } catch let error as YamlError {
            let description = "\(error)"
            if description.contains("Maximum nesting level") { throw fail(yamlErrorLine(error), tooDeepMessage()) }
            throw fail(yamlErrorLine(error), "invalid YAML: \(shortened(description))")
        }
        guard let root else { throw fail(1, "the file is empty") }
        let nodeCount: Int
        switch measure(root) {
        case .success(let count): nodeCount = count
        case .failure(let exceeded): throw fail(exceeded.line, exceeded.message)
        }

        let recorder = DecodingRecorder()
        let definition = try PlatformDefinition(from: StrictDecoder(node: root, codingPath: [], recorder: recorder))
        let loaded = LoadedPlatform(definition: definition, file: file, lines: FieldLines(recorder.decoded, nodes: nodeCount),
                                    nodeCount: nodeCount)
        let problems = recorder.problems + recorder.unknownKeys()
        guard problems.isEmpty else {
            let issues = problems.map { loaded.issue($0.field, $0.message) }
            throw ConfigErrors(issues: issues.sorted { ($0.line ?? 0, $0.field) < ($1.line ?? 0, $1.field) })
        }
        return loaded
    }

    /// libyaml quotes the offending line; a 4 MiB line is not a message.
    private static func shortened(_ description: String) -> String {
        description.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.count > 160 ? $0.prefix(160) + "…" : $0 }.joined(separator: "\n")
    }

    private static func yamlErrorLine(_ error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): return mark.line
        case .duplicatedKeysInMapping(_, let context): return context.mark.line
        default: return nil
        }
    }
}
