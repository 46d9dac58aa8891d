import AdminProtocol
import Foundation

/// JSON as `WireJSON` encodes it (sorted keys, ISO 8601 dates with milliseconds), where the API
/// writes JSON itself: problem details and the data of stream events.
enum JSONBody {
    static func encode(_ value: some Encodable, pretty: Bool) throws -> Data {
        try WireJSON.encoder(pretty: pretty).encode(value)
    }
}
