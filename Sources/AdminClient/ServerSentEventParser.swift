/// The `data:` of each Server-Sent Event in a stream that arrives in pieces (WHATWG HTML,
/// "Interpreting an event stream"): lines end with LF (or CRLF), an empty line ends an event,
/// lines starting with ':' are comments (the daemon's keep-alives), several `data:` lines join
/// with LF. Only `data` matters here: the event's JSON carries its id and kind.
struct ServerSentEventParser {
    // Bytes, not Characters: Swift reads CR LF as one Character.
    private var pending: [UInt8] = []
    private var data: [String] = []

    /// The data of every event completed by `chunk`.
    mutating func feed(_ chunk: some Sequence<UInt8>) -> [String] {
        pending.append(contentsOf: chunk)
        var events: [String] = []
        var start = 0
        while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
            var line = pending[start..<newline]
            start = newline + 1
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            if line.isEmpty {
                if !data.isEmpty { events.append(data.joined(separator: "\n")) }
                data = []
            } else if line.starts(with: Self.dataField) {
                var value = line.dropFirst(Self.dataField.count)
                if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
                data.append(String(decoding: value, as: UTF8.self))
            }
        }
        pending.removeFirst(start)
        return events
    }

    private static let dataField = Array("data:".utf8)
}
