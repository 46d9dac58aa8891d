import Foundation
import Logging

/// `--log-format`: lines for people (swift-log's stream handler) or one JSON object a line for a
/// log collector.
public enum LogFormat: String, CaseIterable, Sendable {
    case text, json
}

/// One JSON object per log line: `time` (ISO 8601, milliseconds), `level`, `label`, `message`
/// and `metadata` (the logger's, its provider's and the call's, the call's winning). swift-log
/// brings no JSON handler and none of the packages here does; this is the whole of one.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level = .info
    let label: String
    /// Takes one line, without its newline.
    let write: @Sendable (String) -> Void

    public init(label: String, metadataProvider: Logger.MetadataProvider? = nil,
                write: @escaping @Sendable (String) -> Void = JSONLogHandler.standardError) {
        self.label = label
        self.metadataProvider = metadataProvider
        self.write = write
    }

    /// One write(2) a line, so that lines from several threads do not interleave.
    public static let standardError: @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { _, new in new } }
        if let given = event.metadata { all.merge(given) { _, new in new } }
        let line = Line(time: Date().formatted(Self.time), level: event.level.rawValue, label: label,
                        message: event.message.description, metadata: all.mapValues(Value.init))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // A line that cannot be encoded still says that something was logged.
        let text = (try? encoder.encode(line)).map { String(decoding: $0, as: UTF8.self) }
            ?? #"{"level":"error","message":"a log line could not be encoded as JSON"}"#
        write(text)
    }

    static let time = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    struct Line: Encodable {
        var time: String
        var level: String
        var label: String
        var message: String
        var metadata: [String: Value]
    }

    /// A metadata value as JSON: a string, an array or an object.
    enum Value: Encodable {
        case string(String)
        case array([Value])
        case object([String: Value])

        init(_ value: Logger.Metadata.Value) {
            switch value {
            case .string(let s): self = .string(s)
            case .stringConvertible(let c): self = .string(c.description)
            case .array(let a): self = .array(a.map(Value.init))
            case .dictionary(let d): self = .object(d.mapValues(Value.init))
            }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .string(let s): try container.encode(s)
            case .array(let a): try container.encode(a)
            case .object(let o): try container.encode(o)
            }
        }
    }
}
