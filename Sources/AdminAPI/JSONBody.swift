import Foundation

/// JSON as `vpctl -o json` encodes it (ISO 8601 dates, sorted keys), where the API writes JSON
/// itself: problem details and the data of stream events.
enum JSONBody {
    static func encode(_ value: some Encodable, pretty: Bool) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(value)
    }
}
