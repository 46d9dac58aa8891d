import AdminProtocol
import Foundation
import Hummingbird

/// JSON in and out, encoded as `WireJSON` says (sorted keys, ISO 8601 dates with milliseconds).
enum JSONBody {
    /// A body larger than a platform definition may be is refused before it is read whole.
    static let maxBytes = 4 << 20

    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(bytes: try encode(value, pretty: true))))
    }

    static func encode(_ value: some Encodable, pretty: Bool) throws -> Data {
        try WireJSON.encoder(pretty: pretty).encode(value)
    }

    /// Decodes a JSON object body into `T`, refusing fields `T` does not have (a misspelt
    /// `confirm` must not pass for `false`).
    static func decode<T: Decodable & KnownFields>(_ type: T.Type, from request: Request) async throws -> T {
        var request = request
        let data = Data(try await request.collectBody(upTo: maxBytes).readableBytesView)
        guard let object = try? JSONSerialization.jsonObject(with: data), let fields = object as? [String: Any] else {
            throw APIError(.invalidRequest, "the body", "expected a JSON object")
        }
        if let unknown = fields.keys.sorted().first(where: { !T.fields.contains($0) }) {
            throw APIError(.invalidRequest, "field '\(unknown)'", "unknown (known: \(T.fields.sorted().joined(separator: ", ")))")
        }
        return try JSONDecoder().decode(T.self, from: data)
    }
}

/// The fields a request body may have.
protocol KnownFields {
    static var fields: Set<String> { get }
}
