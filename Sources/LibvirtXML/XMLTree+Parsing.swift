import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// libvirt's XML read back into `XMLTree` values, with Foundation's event parser.
///
/// Not `XMLDocument`: on Linux every `XMLDocument` stays in memory after its last use (about
/// 20 KB per domain definition), so a daemon that reads a 1,000-processor platform on every plan
/// grew without bound, and each read got slower than the one before.
extension XMLTree {
    /// The root element of `xml`. Attributes come in name order; an element's text is its own
    /// character data, nil when it has none or only the indentation between its children.
    public static func parse(_ xml: String) throws -> XMLTree {
        let parser = XMLParser(data: Data(xml.utf8))
        let builder = TreeBuilder()
        parser.delegate = builder
        guard parser.parse(), let root = builder.root else {
            throw XMLParseError(line: parser.lineNumber, column: parser.columnNumber,
                                cause: parser.parserError.map { "\($0)" } ?? "no root element")
        }
        return root
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

/// Builds the tree from the parser's events: a stack of open elements.
private final class TreeBuilder: NSObject, XMLParserDelegate {
    private var open: [(tree: XMLTree, text: String)] = []
    var root: XMLTree?

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        var tree = XMLTree(name)
        tree.attributes = attributes.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        open.append((tree, ""))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard !open.isEmpty else { return }
        open[open.count - 1].text += string
    }

    func parser(_ parser: XMLParser, foundCDATA block: Data) {
        guard !open.isEmpty else { return }
        open[open.count - 1].text += String(decoding: block, as: UTF8.self)
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        guard let (element, text) = open.popLast() else { return }
        var tree = element
        let indentation = !tree.children.isEmpty && text.allSatisfy(\.isWhitespace)
        tree.text = text.isEmpty || indentation ? nil : text
        if open.isEmpty { root = tree } else { open[open.count - 1].tree.children.append(tree) }
    }
}
