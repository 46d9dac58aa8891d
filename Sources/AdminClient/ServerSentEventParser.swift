/// Server-Sent Events from a stream that arrives in pieces (WHATWG HTML, "Interpreting an event
/// stream"): lines end with LF (or CRLF), an empty line ends an event, lines starting with ':' are
/// comments (the daemon's keep-alives), several `data:` lines join with LF, one space after the
/// colon is dropped. Of the fields the daemon sends, `data` and `id` are kept: the event's id is
/// the spec's last event ID (the last `id:` seen, kept across events), what a client resumes from
/// with Last-Event-ID. The event's JSON carries its kind too.
public struct ServerSentEventParser: Sendable {
    public struct Event: Equatable, Sendable {
        public var id: String?
        public var data: String
        public init(id: String?, data: String) { self.id = id; self.data = data }
    }

    // Bytes, not Characters: Swift reads CR LF as one Character.
    private var pending: [UInt8] = []
    private var id: String?
    private var data: [String] = []

    public init() {}

    /// Every event completed by `chunk`.
    public mutating func feed(_ chunk: some Sequence<UInt8>) -> [Event] {
        pending.append(contentsOf: chunk)
        var events: [Event] = []
        var start = 0
        while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
            var line = pending[start..<newline]
            start = newline + 1
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            if line.isEmpty {
                if !data.isEmpty { events.append(Event(id: id, data: data.joined(separator: "\n"))) }
                data = []
            } else if let value = Self.value(of: Self.dataField, in: line) {
                data.append(String(decoding: value, as: UTF8.self))
            } else if let value = Self.value(of: Self.idField, in: line) {
                id = String(decoding: value, as: UTF8.self)
            }
        }
        pending.removeFirst(start)
        return events
    }

    /// What follows `field` (its name and colon) on `line`, one leading space dropped.
    private static func value(of field: [UInt8], in line: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        guard line.starts(with: field) else { return nil }
        let value = line.dropFirst(field.count)
        return value.first == UInt8(ascii: " ") ? value.dropFirst() : value
    }

    private static let dataField = Array("data:".utf8)
    private static let idField = Array("id:".utf8)
}
