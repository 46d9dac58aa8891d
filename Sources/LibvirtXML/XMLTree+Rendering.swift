/// XML text from `XMLTree` values, written here rather than through Foundation's `XMLElement`:
/// on Linux every libxml2 node behind an `XMLElement` (its attributes and text) stayed allocated
/// after the last use, about 5 KB per domain definition, so each apply of a 1,000-processor
/// platform left ~17 MiB behind (heaptrack: xmlNewProp, xmlNewText under XMLTree.element()).
///
/// The layout is the one libxml2 gave (which the golden files hold): two spaces per level, an
/// element with only text on one line, an empty element as a start and an end tag, and no
/// indentation inside an element that has both text and child elements (mixed content).
extension XMLTree {
    /// The element as an indented XML string.
    public func render() -> String {
        var out = ""
        write(to: &out, indent: 0, pretty: true)
        out += "\n"
        return out
    }

    private func write(to out: inout String, indent: Int, pretty: Bool) {
        out += "<" + name
        for (key, value) in attributes {
            out += " " + key + "=\""
            Self.escape(value, inAttribute: true, to: &out)
            out += "\""
        }
        out += ">"
        if let text { Self.escape(text, inAttribute: false, to: &out) }
        // Text beside child elements is content: indentation would change it.
        let indentChildren = pretty && text == nil
        for child in children {
            if indentChildren { out += "\n" + String(repeating: " ", count: indent + 2) }
            child.write(to: &out, indent: indent + 2, pretty: indentChildren)
        }
        if indentChildren && !children.isEmpty { out += "\n" + String(repeating: " ", count: indent) }
        out += "</" + name + ">"
    }

    /// Character data and attribute values escaped as libxml2 escapes them: markup characters
    /// always; in attributes also the quote and the whitespace that attribute normalisation would
    /// turn into spaces.
    static func escape(_ value: String, inAttribute: Bool, to out: inout String) {
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\r": out += "&#13;"
            case "\"" where inAttribute: out += "&quot;"
            case "\n" where inAttribute: out += "&#10;"
            case "\t" where inAttribute: out += "&#9;"
            default: out.unicodeScalars.append(scalar)
            }
        }
    }
}
