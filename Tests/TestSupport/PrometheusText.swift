/// One sample of Prometheus' text exposition format: `name{label="value",…} value`.
public struct PrometheusSample: Sendable, Equatable {
    public var name: String
    public var labels: [String: String]
    public var value: Double
}

/// Parses the text exposition format (version 0.0.4) into its samples, so tests read metrics as
/// a scraper does rather than by searching the text. Comments (`# TYPE`, `# HELP`) are skipped;
/// a line that is not a sample throws, naming it.
public enum PrometheusText {
    public struct Malformed: Error, CustomStringConvertible {
        public let description: String
    }

    public static func parse(_ text: String) throws -> [PrometheusSample] {
        try text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.allSatisfy(\.isWhitespace) }.map { line in
            func malformed(_ why: String) -> Malformed { Malformed(description: "metrics line '\(line)': \(why)") }
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                throw malformed("no value")
            }
            let series = line[..<space]
            guard let open = series.firstIndex(of: "{") else { return PrometheusSample(name: String(series), labels: [:], value: value) }
            guard series.last == "}" else { throw malformed("labels not closed") }
            var labels: [String: String] = [:]
            var rest = series[series.index(after: open)..<series.index(before: series.endIndex)]
            while !rest.isEmpty {
                guard let eq = rest.firstIndex(of: "="), rest[rest.index(after: eq)] == "\"" else { throw malformed("label without a quoted value") }
                var cursor = rest.index(eq, offsetBy: 2)
                var value = ""
                while cursor < rest.endIndex, rest[cursor] != "\"" {
                    // Escapes: \\ \" and \n.
                    if rest[cursor] == "\\", rest.index(after: cursor) < rest.endIndex {
                        cursor = rest.index(after: cursor)
                        value.append(rest[cursor] == "n" ? "\n" : rest[cursor])
                    } else {
                        value.append(rest[cursor])
                    }
                    cursor = rest.index(after: cursor)
                }
                guard cursor < rest.endIndex else { throw malformed("label value not closed") }
                labels[String(rest[..<eq])] = value
                rest = rest[rest.index(after: cursor)...]
                if rest.first == "," { rest = rest.dropFirst() }
            }
            return PrometheusSample(name: String(series[..<open]), labels: labels, value: value)
        }
    }
}

extension Array where Element == PrometheusSample {
    /// The value of the series `name` with exactly `labels` (nil: no such series).
    public func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        first { $0.name == name && $0.labels == labels }?.value
    }
}
