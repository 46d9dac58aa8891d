import Foundation

/// JSON as the admin API sends it: sorted keys, and dates in ISO 8601 with milliseconds, so that
/// an event's time read through the daemon prints as it does read from the store (`vpctl events`
/// shows milliseconds). Decoding takes dates with or without the fraction.
///
/// The milliseconds are rounded, never truncated: a date read back is a few ulps off the one
/// written, and truncating x.455 seen as x.45499999 would print x.454.
public enum WireJSON {
    public static func encoder(pretty: Bool) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(text(of: date))
        }
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = date(from: text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not an ISO 8601 date")
            }
            return date
        }
        return decoder
    }

    /// "2026-12-01T18:23:18.032Z": the date to the nearest millisecond.
    public static func text(of date: Date) -> String {
        let (whole, milliseconds) = split(date)
        return String(whole.formatted(Date.ISO8601FormatStyle()).dropLast()) + String(format: ".%03dZ", milliseconds)
    }

    /// An ISO 8601 date with or without the fraction of a second.
    public static func date(from text: String) -> Date? {
        (try? withMilliseconds.parse(text)) ?? (try? Date.ISO8601FormatStyle().parse(text))
    }

    static let withMilliseconds = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    /// The date to the nearest millisecond: its whole second and the milliseconds after it.
    public static func split(_ date: Date) -> (whole: Date, milliseconds: Int) {
        let ms = (date.timeIntervalSince1970 * 1000).rounded()
        let seconds = (ms / 1000).rounded(.down)
        return (Date(timeIntervalSince1970: seconds), Int(ms - seconds * 1000))
    }
}
