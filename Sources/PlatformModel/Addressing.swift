/// A 48-bit MAC address.
public struct MACAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard part.count == 2, let b = UInt8(part, radix: 16) else { return nil }
            bytes.append(b)
        }
        self.bytes = bytes
    }

    public init(bytes: [UInt8]) { precondition(bytes.count == 6); self.bytes = bytes }

    public var isMulticast: Bool { bytes[0] & 0x01 != 0 }
    public var isLocallyAdministered: Bool { bytes[0] & 0x02 != 0 }
    public var description: String { bytes.map { hex($0) }.joined(separator: ":") }
    public static func < (a: Self, b: Self) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }

    private func hex(_ b: UInt8) -> String { let s = String(b, radix: 16); return s.count == 1 ? "0" + s : s }
}

/// An IPv4 address; compares numerically (10.0.0.2 < 10.0.0.12), unlike the dotted text, so it
/// also serves as an ordering key.
public struct IPv4Address: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The address as a 32-bit number in network order of significance (first octet highest).
    public let value: UInt32

    public init(_ value: UInt32) { self.value = value }

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
    public static func < (a: Self, b: Self) -> Bool { a.value < b.value }
}

/// An IPv4 subnet in CIDR form.
public struct IPv4Subnet: Hashable, Sendable, CustomStringConvertible {
    public let network: IPv4Address
    public let prefix: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let address = IPv4Address(String(parts[0])), let prefix = Int(parts[1]),
              (8...30).contains(prefix) else { return nil }
        let mask = Self.mask(prefix)
        guard address.value & ~mask == 0 else { return nil }
        self.network = address
        self.prefix = prefix
    }

    static func mask(_ prefix: Int) -> UInt32 { prefix == 0 ? 0 : UInt32.max << UInt32(32 - prefix) }

    public var broadcast: IPv4Address { IPv4Address(network.value | ~Self.mask(prefix)) }
    /// First usable address (by convention the host's).
    public var firstHost: IPv4Address { IPv4Address(network.value + 1) }
    public var lastHost: IPv4Address { IPv4Address(broadcast.value - 1) }
    public var description: String { "\(network)/\(prefix)" }

    /// True for addresses a host may use: inside, not the network or broadcast address.
    public func containsHost(_ address: IPv4Address) -> Bool {
        address.value & Self.mask(prefix) == network.value && address != network && address != broadcast
    }
}

/// Sizes like "64MiB", "2GiB", "512KiB", "1000000B" or "1G" (binary units): decimal digits, then a unit.
public enum ByteSize {
    public enum Problem: Error, Equatable {
        case notASize
        case zero
        /// More than UInt64 can hold (16 EiB).
        case tooLarge
    }

    static let units: [(String, UInt64)] = [("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10),
                                            ("T", 1 << 40), ("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10), ("B", 1)]

    public static func parse(_ text: String) -> UInt64? { try? check(text).get() }

    /// The size in bytes, or why the text is not one; every step is checked for overflow.
    public static func check(_ text: String) -> Result<UInt64, Problem> {
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            let digits = text.dropLast(suffix.count)
            guard !digits.isEmpty, digits.allSatisfy({ ("0"..."9").contains($0) }) else { return .failure(.notASize) }
            guard let n = UInt64(digits) else { return .failure(.tooLarge) } // only digits: it failed by overflow
            guard n > 0 else { return .failure(.zero) }
            let (product, overflow) = n.multipliedReportingOverflow(by: factor)
            return overflow ? .failure(.tooLarge) : .success(product)
        }
        return .failure(.notASize)
    }
}
