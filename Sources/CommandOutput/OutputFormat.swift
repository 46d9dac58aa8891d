import ArgumentParser
import Foundation

/// `-o table` for people, `-o json` for scripts.
public enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case table, json
}

public struct OutputOptions: ParsableArguments, Sendable {
    public init() {}

    @Option(name: [.customShort("o"), .customLong("output")], help: "Output format: table or json.")
    public var format: OutputFormat = .table
}

public enum JSONOutput {
    public static func print<T: Encodable>(_ value: T) throws { Swift.print(try text(value)) }

    /// One compact JSON object per line (for streams such as `events --follow -o json`).
    public static func printLine<T: Encodable>(_ value: T) throws { Swift.print(try line(value)) }

    /// What `print` prints.
    public static func text<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// What `printLine` prints.
    public static func line<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

/// Progress lines go to stderr so that stdout stays clean for `-o json`.
public enum Progress {
    public static func say(_ line: String) {
        FileHandle.standardError.write(Data("· \(line)\n".utf8))
    }
}
