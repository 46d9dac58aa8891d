/// libvirt's XML read back into `XMLTree` values, by a small reader of its own.
///
/// Not `XMLDocument`: on Linux every `XMLDocument` stays in memory after its last use (about
/// 20 KB per domain definition), so a daemon that reads a 1,000-processor platform on every plan
/// grew without bound. Not Foundation's `XMLParser` either: its callbacks (a dictionary and
/// strings per element) made reading 1,000 domain definitions take ~0.1 s of a no-op apply, more
/// than reading them from libvirt. What libvirt writes is plain XML: elements, attributes, text,
/// the five predefined entities and character references; comments, processing instructions,
/// CDATA sections and a DOCTYPE are read too (and the last three skipped).
extension XMLTree {
    /// The root element of `xml`. Attributes come in name order; an element's text is its own
    /// character data, nil when it has none or only the indentation between its children.
    public static func parse(_ xml: String) throws -> XMLTree {
        var xml = xml
        return try xml.withUTF8 { bytes in
            var reader = XMLReader(bytes)
            return try reader.document()
        }
    }

    /// The first child element named `name`.
    public func child(_ name: String) -> XMLTree? { children.first { $0.name == name } }

    /// The child elements named `name`.
    public func children(_ name: String) -> [XMLTree] { children.filter { $0.name == name } }

    /// This element and every element below it named `name`, in document order (XPath's `//name`).
    public func all(_ name: String) -> [XMLTree] {
        (self.name == name ? [self] : []) + children.flatMap { $0.all(name) }
    }

    /// The element reached by following child names from this one (`tree.at("ip", "dhcp")`).
    public func at(_ path: String...) -> XMLTree? {
        path.reduce(self as XMLTree?) { tree, name in tree?.child(name) }
    }

    /// The value of the attribute `name`.
    public subscript(attribute name: String) -> String? { attributes.first { $0.0 == name }?.1 }
}

/// XML that could not be read.
public struct XMLParseError: Error, CustomStringConvertible, Sendable {
    public let line: Int, column: Int, cause: String
    public var description: String { "XML is not well-formed at line \(line), column \(column): \(cause)" }
}

/// Reads one document from UTF-8 bytes: a stack of open elements, each with its own text.
private struct XMLReader {
    let bytes: UnsafeBufferPointer<UInt8>
    var i = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    mutating func document() throws -> XMLTree {
        var open: [(tree: XMLTree, text: String)] = []
        var root: XMLTree?
        while i < bytes.count {
            if bytes[i] != ascii("<") {
                let text = try characterData()
                if open.isEmpty {
                    guard isSpace(text) else { throw failure("text outside the root element") }
                } else {
                    open[open.count - 1].text += text
                }
                continue
            }
            if starts(with: "<!--") {
                try skip(past: "-->", what: "comment")
            } else if starts(with: "<![CDATA[") {
                i += 9
                let start = i
                try skip(past: "]]>", what: "CDATA section")
                guard !open.isEmpty else { throw failure("CDATA outside the root element") }
                open[open.count - 1].text += String(decoding: bytes[start..<(i - 3)], as: UTF8.self)
            } else if starts(with: "<?") {
                try skip(past: "?>", what: "processing instruction")
            } else if starts(with: "<!DOCTYPE") {
                try skipDoctype()
            } else if starts(with: "</") {
                i += 2
                let name = try self.name()
                skipSpace()
                try expect(">")
                guard let (element, text) = open.popLast() else { throw failure("end tag </\(name)> without a start tag") }
                guard element.name == name else { throw failure("end tag </\(name)> does not close <\(element.name)>") }
                var tree = element
                let indentation = !tree.children.isEmpty && isSpace(text)
                tree.text = text.isEmpty || indentation ? nil : text
                if open.isEmpty { root = tree } else { open[open.count - 1].tree.children.append(tree) }
            } else {
                guard root == nil else { throw failure("a second root element") }
                i += 1
                var tree = XMLTree(try name())
                var attributes: [(String, String)] = []
                var empty = false // <name/>
                while true {
                    let spaced = skipSpace()
                    guard i < bytes.count else { throw failure("the document ends inside <\(tree.name)>") }
                    if bytes[i] == ascii(">") { i += 1; break }
                    if starts(with: "/>") { i += 2; empty = true; break }
                    guard spaced else { throw failure("expected a space before an attribute of <\(tree.name)>") }
                    let key = try name()
                    skipSpace()
                    try expect("=")
                    skipSpace()
                    let value = try attributeValue()
                    guard !attributes.contains(where: { $0.0 == key }) else { throw failure("attribute \(key) given twice") }
                    attributes.append((key, value))
                }
                tree.attributes = attributes.sorted { $0.0 < $1.0 }
                if empty {
                    if open.isEmpty { root = tree } else { open[open.count - 1].tree.children.append(tree) }
                } else {
                    open.append((tree, ""))
                }
            }
        }
        if let element = open.last { throw failure("the document ends inside <\(element.tree.name)>") }
        guard let root else { throw failure("no root element") }
        return root
    }

    // MARK: Pieces

    /// Text up to the next `<`, entities and character references replaced, line ends normalised.
    private mutating func characterData() throws -> String {
        var text = ""
        var start = i
        while i < bytes.count, bytes[i] != ascii("<") {
            switch bytes[i] {
            case ascii("&"):
                text += String(decoding: bytes[start..<i], as: UTF8.self)
                text.unicodeScalars.append(try reference())
                start = i
            case ascii("\r"):
                text += String(decoding: bytes[start..<i], as: UTF8.self) + "\n"
                i += 1
                if i < bytes.count, bytes[i] == ascii("\n") { i += 1 }
                start = i
            default:
                i += 1
            }
        }
        return text + String(decoding: bytes[start..<i], as: UTF8.self)
    }

    /// A quoted value; as XML normalises attributes, a literal tab or line end reads as a space
    /// (written as a character reference it stays what it is).
    private mutating func attributeValue() throws -> String {
        guard i < bytes.count, bytes[i] == ascii("\"") || bytes[i] == ascii("'") else { throw failure("expected a quoted attribute value") }
        let quote = bytes[i]
        i += 1
        var value = ""
        var start = i
        while true {
            guard i < bytes.count else { throw failure("the document ends inside an attribute value") }
            let c = bytes[i]
            if c == quote { break }
            switch c {
            case ascii("<"): throw failure("'<' in an attribute value")
            case ascii("&"):
                value += String(decoding: bytes[start..<i], as: UTF8.self)
                value.unicodeScalars.append(try reference())
                start = i
            case ascii("\r"), ascii("\n"), ascii("\t"):
                value += String(decoding: bytes[start..<i], as: UTF8.self) + " "
                i += c == ascii("\r") && i + 1 < bytes.count && bytes[i + 1] == ascii("\n") ? 2 : 1
                start = i
            default:
                i += 1
            }
        }
        value += String(decoding: bytes[start..<i], as: UTF8.self)
        i += 1
        return value
    }

    /// `&name;` (one of the five XML defines) or `&#N;` / `&#xN;`, at `i`.
    private mutating func reference() throws -> Unicode.Scalar {
        let start = i
        guard let end = bytes[i...].prefix(12).firstIndex(of: ascii(";")) else { throw failure("'&' that starts no reference") }
        let body = String(decoding: bytes[(start + 1)..<end], as: UTF8.self)
        i = end + 1
        switch body {
        case "lt": return "<"
        case "gt": return ">"
        case "amp": return "&"
        case "quot": return "\""
        case "apos": return "'"
        default:
            let number = body.hasPrefix("#x") ? UInt32(body.dropFirst(2), radix: 16) : body.hasPrefix("#") ? UInt32(body.dropFirst(), radix: 10) : nil
            guard let number, let scalar = Unicode.Scalar(number) else { i = start; throw failure("unknown reference &\(body);") }
            return scalar
        }
    }

    /// An element or attribute name (with its prefix, as written: namespaces are not processed).
    private mutating func name() throws -> String {
        let start = i
        while i < bytes.count, !Self.endsName(bytes[i]) { i += 1 }
        guard i > start else { throw failure("expected a name") }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    private static func endsName(_ c: UInt8) -> Bool {
        c == ascii(" ") || c == ascii("\t") || c == ascii("\n") || c == ascii("\r") || c == ascii(">") || c == ascii("/")
            || c == ascii("=") || c == ascii("<") || c == ascii("\"") || c == ascii("'")
    }

    @discardableResult
    private mutating func skipSpace() -> Bool {
        let start = i
        while i < bytes.count, bytes[i] == ascii(" ") || bytes[i] == ascii("\t") || bytes[i] == ascii("\n") || bytes[i] == ascii("\r") { i += 1 }
        return i > start
    }

    private mutating func expect(_ c: Unicode.Scalar) throws {
        guard i < bytes.count, bytes[i] == ascii(c) else { throw failure("expected '\(c)'") }
        i += 1
    }

    private func starts(with text: StaticString) -> Bool {
        let n = text.utf8CodeUnitCount
        guard i + n <= bytes.count else { return false }
        return (0..<n).allSatisfy { bytes[i + $0] == text.utf8Start[$0] }
    }

    private mutating func skip(past end: StaticString, what: String) throws {
        while i < bytes.count {
            if starts(with: end) { i += end.utf8CodeUnitCount; return }
            i += 1
        }
        throw failure("the document ends inside a \(what)")
    }

    /// `<!DOCTYPE …>`, with an internal subset in brackets.
    private mutating func skipDoctype() throws {
        var depth = 0
        while i < bytes.count {
            switch bytes[i] {
            case ascii("["): depth += 1
            case ascii("]"): depth -= 1
            case ascii(">") where depth == 0: i += 1; return
            default: break
            }
            i += 1
        }
        throw failure("the document ends inside its DOCTYPE")
    }

    /// The error at `i`, with its line and column (both from 1).
    private func failure(_ cause: String) -> XMLParseError {
        let before = bytes[..<min(i, bytes.count)]
        let line = before.reduce(1) { $1 == ascii("\n") ? $0 + 1 : $0 }
        let column = i - (before.lastIndex(of: ascii("\n")).map { $0 + 1 } ?? 0) + 1
        return XMLParseError(line: line, column: column, cause: cause)
    }
}

private func ascii(_ s: Unicode.Scalar) -> UInt8 { UInt8(s.value) }

/// Only XML's white space (space, tab, line ends): the indentation between elements.
private func isSpace(_ text: String) -> Bool {
    text.utf8.allSatisfy { $0 == ascii(" ") || $0 == ascii("\t") || $0 == ascii("\n") || $0 == ascii("\r") }
}
