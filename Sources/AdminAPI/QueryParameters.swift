import Hummingbird

extension Parameters {
    /// An integer query parameter within `range`, or `fallback` when absent; anything else is a 400
    /// naming the parameter.
    func integer<T: FixedWidthInteger>(_ name: String, default fallback: T?, in range: ClosedRange<T>) throws -> T? {
        guard let raw = self[name[...]].map(String.init) else { return fallback }
        guard let value = T(raw), range.contains(value) else {
            throw APIError(.invalidRequest, "query parameter '\(name)'", "'\(raw)' is not a whole number in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    func integer<T: FixedWidthInteger>(_ name: String, default fallback: T, in range: ClosedRange<T>) throws -> T {
        try integer(name, default: Optional(fallback), in: range) ?? fallback
    }
}
