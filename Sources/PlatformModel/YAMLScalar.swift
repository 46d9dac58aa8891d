import Yams

/// How a scalar of the definition is read. The file is YAML, but YAML 1.1 (what PyYAML and many
/// tools still speak) reads some plain scalars as other types or values than YAML 1.2 does. A value
/// is therefore read as written, or refused when another tool could read it differently:
///
/// - Strings (names, MACs, paths, sizes) are taken exactly as written, plain or quoted: `0100`,
///   `on`, `.inf`, `02:56:50:00:02:20` (base 60 in YAML 1.1) stay those characters. The field's
///   type says it is text, so there is nothing to guess.
/// - Integers are plain decimal digits with an optional sign. Refused, with the reason:
///   a leading zero (`0100` is octal 64 in YAML 1.1, 100 in YAML 1.2), base 60 (`1:20` is 80 in
///   YAML 1.1, a string in 1.2), `_` separators (`1_000`, YAML 1.1 only), `0x`/`0o`/`0b` (a decimal
///   schema should not carry a second notation for the same number), floats and `.inf`, quoted
///   numbers (a quoted scalar is a string to every YAML reader), explicit tags.
/// - Booleans are `true`/`false` (also `True`, `TRUE`, …: YAML 1.2's core schema). `yes/no/on/off/y/n`
///   are booleans only in YAML 1.1, so they are refused rather than guessed.
/// - `~`, `null` and an empty value are null, as in both versions: absent for an optional field,
///   "found nothing" for a required one.
enum YAMLScalar {
    enum Problem: Error { case message(String) }

    static func isNull(_ s: Node.Scalar) -> Bool {
        s.style == .plain && ["", "~", "null", "Null", "NULL"].contains(s.string)
    }

    /// The tag written in the file, if any (`!!int 5`, `!foo x`). Yams keeps a value's tag as
    /// written ("" for none, "!" for a quoted scalar) until something resolves it; the loader never does.
    static func explicitTag(_ tag: Tag) -> String? {
        let name = tag.description
        return name.isEmpty || name == "!" ? nil : name
    }

    static func string(_ s: Node.Scalar) throws(Problem) -> String {
        if let tag = explicitTag(s.tag), tag != Tag.Name.str.rawValue {
            throw .message("YAML tags (\(tag)) are not supported; write the value plainly")
        }
        return s.string
    }

    static func integer<T: FixedWidthInteger>(_ s: Node.Scalar, as: T.Type) throws(Problem) -> T {
        let text = try plainNumber(s, expected: "an integer")
        let digits = text.first == "-" || text.first == "+" ? text.dropFirst() : Substring(text)
        if !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit) {
            if digits.count > 1, digits.first == "0" {
                let sign = text.first == "-" ? "-" : "", significant = digits.drop { $0 == "0" }
                let written = sign + (significant.isEmpty ? "0" : significant)
                throw .message("'\(text)' has a leading zero, which YAML 1.1 reads as octal; write \(written)")
            }
            guard let value = T(text.first == "+" ? String(digits) : text) else {
                throw .message("'\(text)' is too large for an integer here (\(T.min)…\(T.max))")
            }
            return value
        }
        let lower = digits.lowercased()
        if lower.hasPrefix("0x") || lower.hasPrefix("0o") || lower.hasPrefix("0b") {
            throw .message("'\(text)' is not decimal; write integers in decimal")
        }
        let sexagesimal = digits.split(separator: ":", omittingEmptySubsequences: false)
        if sexagesimal.count > 1, sexagesimal.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) }) {
            throw .message("'\(text)' is a base 60 number in YAML 1.1 and a string in YAML 1.2; write the number in decimal")
        }
        if digits.contains("_"), digits.allSatisfy({ $0.isASCIIDigit || $0 == "_" }) {
            throw .message("'\(text)' uses '_' between digits, which only YAML 1.1 reads as a number; write it without '_'")
        }
        throw .message("expected an integer")
    }

    static func double(_ s: Node.Scalar) throws(Problem) -> Double {
        let text = try plainNumber(s, expected: "a number")
        let body = text.first == "-" || text.first == "+" ? text.dropFirst() : Substring(text)
        let parts = body.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.allSatisfy(\.isASCIIDigit),
              parts.count == 1 || (!parts[1].isEmpty && parts[1].allSatisfy(\.isASCIIDigit)),
              let value = Double(text), value.isFinite else {
            throw .message("expected a number like 1.5, found '\(text)'")
        }
        return value
    }

    static func bool(_ s: Node.Scalar) throws(Problem) -> Bool {
        guard s.style == .plain else { throw .message("expected true or false, found the quoted string \"\(s.string)\"") }
        if let tag = explicitTag(s.tag) { throw .message("YAML tags (\(tag)) are not supported; write the value plainly") }
        switch s.string {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        case let text where ["yes", "no", "on", "off", "y", "n"].contains(text.lowercased()):
            throw .message("'\(text)' is a boolean only in YAML 1.1; write true or false")
        default: throw .message("expected true or false")
        }
    }

    private static func plainNumber(_ s: Node.Scalar, expected: String) throws(Problem) -> String {
        guard s.style == .plain else {
            throw .message("expected \(expected), found the quoted string \"\(s.string)\" (a quoted value is text; remove the quotes)")
        }
        if let tag = explicitTag(s.tag) { throw .message("YAML tags (\(tag)) are not supported; write the value plainly") }
        return s.string
    }
}

private extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
