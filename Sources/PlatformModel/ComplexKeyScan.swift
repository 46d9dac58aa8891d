/// Finds mapping keys that are not plain words, in the text, before the YAML is composed.
///
/// Why before: Yams' composer checks every mapping for duplicate keys by hashing the keys, and a
/// key that is a list, a mapping or an alias of one is hashed in full. An alias bomb used as a key
/// (`? *bomb`, `[*bomb]: x`, `*bomb : x`) therefore hangs inside the composer, before any limit on
/// the composed tree can run. The definition's keys are always plain words, so such keys are refused.
///
/// The scan is conservative: it skips comments and quoted scalars, and may flag text inside a
/// block scalar (`|`, `>`), which the schema never uses; it never misses one of these key forms.
enum ComplexKeyScan {
    static let message = "complex mapping keys (a list, a mapping or an alias used as a key) are not supported; keys are plain words"

    /// The line of the first complex key, if any.
    static func firstComplexKey(in text: String) -> Int? {
        let b = Array(text.utf8)
        var i = 0, line = 1
        var atNodeStart = true
        func isBlank(_ j: Int) -> Bool {
            j >= b.count || b[j] == ascii(" ") || b[j] == ascii("\t") || b[j] == ascii("\r") || b[j] == ascii("\n")
        }
        func isFlowEnd(_ j: Int) -> Bool { j < b.count && [ascii(","), ascii("]"), ascii("}")].contains(b[j]) }
        func skipSpaces(_ j: Int) -> Int { var j = j; while j < b.count, b[j] == ascii(" ") || b[j] == ascii("\t") { j += 1 }; return j }
        func skipQuoted(_ quote: UInt8) {
            i += 1
            while i < b.count {
                if b[i] == ascii("\n") { line += 1 }
                if quote == ascii("\""), b[i] == ascii("\\") { i += 2; continue }
                if b[i] == quote {
                    if quote == ascii("'"), i + 1 < b.count, b[i + 1] == quote { i += 2; continue }
                    break
                }
                i += 1
            }
            i += 1
        }

        while i < b.count {
            let c = b[i]
            if c == ascii("\n") { line += 1; atNodeStart = true; i += 1; continue }
            if isBlank(i) { i += 1; continue }
            if c == ascii("#"), i == 0 || isBlank(i - 1) {
                while i < b.count, b[i] != ascii("\n") { i += 1 }
                continue
            }
            if atNodeStart {
                switch c {
                case ascii("\""), ascii("'"):
                    skipQuoted(c)
                    atNodeStart = false
                    continue
                case ascii("?") where isBlank(i + 1):
                    return line
                case ascii("*"):
                    var j = i + 1
                    while j < b.count, isAnchorCharacter(b[j]) { j += 1 }
                    let k = skipSpaces(j)
                    if k < b.count, b[k] == ascii(":") { return line }
                    i = j
                    atNodeStart = false
                    continue
                case ascii("-") where isBlank(i + 1):
                    i += 1
                    continue
                default:
                    break
                }
            }
            switch c {
            case ascii("["), ascii("{"), ascii(","):
                atNodeStart = true
            case ascii("]"), ascii("}"):
                let j = skipSpaces(i + 1)
                if j < b.count, b[j] == ascii(":"), isBlank(j + 1) || isFlowEnd(j + 1) { return line }
                atNodeStart = false
            case ascii(":") where isBlank(i + 1) || isFlowEnd(i + 1):
                atNodeStart = true
            default:
                atNodeStart = false
            }
            i += 1
        }
        return nil
    }

    /// libyaml's anchor and alias name characters.
    private static func isAnchorCharacter(_ c: UInt8) -> Bool {
        (c >= ascii("0") && c <= ascii("9")) || (c >= ascii("a") && c <= ascii("z")) || (c >= ascii("A") && c <= ascii("Z"))
            || c == ascii("_") || c == ascii("-")
    }

    private static func ascii(_ s: Unicode.Scalar) -> UInt8 { UInt8(s.value) }
}
