/// An IPv4 address as an ordering key: compares numerically (10.0.0.2 < 10.0.0.12), unlike the
/// dotted text.
public struct IPv4Key: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The address as a 32-bit number in network order of significance (first octet highest).
    public let value: UInt32

    /// The address whose numeric value is `value`.
    public init(value: UInt32) {
        self.value = value
    }

    /// Parses a dotted quad such as `10.0.1.20`; nil unless the text is exactly four decimal
    /// octets 0–255. Leading zeros are rejected ("010" is octal to some parsers, decimal to others).
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard (1...3).contains(part.utf8.count),
                  part.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                  part.utf8.count == 1 || part.utf8.first != UInt8(ascii: "0"),
                  let octet = UInt32(part), octet <= 255
            else { return nil }
            value = value << 8 | octet
        }
        self.value = value
    }

    /// The dotted-quad form.
    public var description: String {
        "\(value >> 24).\(value >> 16 & 0xff).\(value >> 8 & 0xff).\(value & 0xff)"
    }

    public static func < (lhs: IPv4Key, rhs: IPv4Key) -> Bool {
        lhs.value < rhs.value
    }
}
