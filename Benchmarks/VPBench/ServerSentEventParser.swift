/// Server-Sent Events from a byte stream, as the WHATWG spec splits them: lines end with LF
/// (a CR before it is dropped), a blank line ends an event, `:` starts a comment, `field: value`
/// with one space after the colon removed. Chunks may split a line anywhere.
struct ServerSentEventParser {
    struct Event: Equatable {
        var id: String?
        var event: String?
        var data: String
    }

    private var line: [UInt8] = []
    private var current = Event(id: nil, event: nil, data: "")
    private var dataLines: [String] = []
    private var hasField = false

    /// The events completed by `chunk`.
    mutating func feed(_ chunk: some Sequence<UInt8>) -> [Event] {
        var done: [Event] = []
        for byte in chunk {
            guard byte == UInt8(ascii: "\n") else { line.append(byte); continue }
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            if line.isEmpty {
                if hasField {
                    current.data = dataLines.joined(separator: "\n")
                    done.append(current)
                }
                current = Event(id: nil, event: nil, data: "")
                dataLines = []
                hasField = false
            } else if line.first != UInt8(ascii: ":") {
                take(String(decoding: line, as: UTF8.self))
            }
            line.removeAll(keepingCapacity: true)
        }
        return done
    }

    private mutating func take(_ text: String) {
        let name: Substring, value: Substring
        if let colon = text.firstIndex(of: ":") {
            name = text[..<colon]
            let rest = text[text.index(after: colon)...]
            value = rest.first == " " ? rest.dropFirst() : rest
        } else {
            name = Substring(text); value = ""
        }
        hasField = true
        switch name {
        case "id": current.id = String(value)
        case "event": current.event = String(value)
        case "data": dataLines.append(String(value))
        default: break
        }
    }
}
