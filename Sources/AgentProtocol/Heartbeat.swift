
/// A heartbeat datagram. The controller sends a request; the agent answers with the same
/// sequence number and token, so the controller can match replies and measure response time.
///
/// Wire format (big-endian, 24 bytes): magic "VPHB" (4) | version (1) | kind (1) | reserved (2)
/// | sequence (8) | token (8).
public struct Heartbeat: Sendable, Equatable {
    public enum Kind: UInt8, Sendable { case request = 1, reply = 2 }
    public static let magic: [UInt8] = Array("VPHB".utf8)
    public static let version: UInt8 = 1
    public static let size = 24

    public var kind: Kind
    public var sequence: UInt64
    /// Chosen by the sender (e.g. identifies the controller instance); echoed back unchanged.
    public var token: UInt64

    public init(kind: Kind, sequence: UInt64, token: UInt64) {
        self.kind = kind; self.sequence = sequence; self.token = token
    }

    public func encoded() -> [UInt8] {
        var bytes = Heartbeat.magic
        bytes += [Heartbeat.version, kind.rawValue, 0, 0]
        bytes += withUnsafeBytes(of: sequence.bigEndian, Array.init)
        bytes += withUnsafeBytes(of: token.bigEndian, Array.init)
        return bytes
    }

    /// Decodes a datagram; nil for anything that is not a well-formed heartbeat of our version.
    public init?(decoding bytes: some Collection<UInt8>) {
        let b = Array(bytes)
        guard b.count == Heartbeat.size, Array(b[0..<4]) == Heartbeat.magic,
              b[4] == Heartbeat.version, let kind = Kind(rawValue: b[5]) else { return nil }
        func u64(_ at: Int) -> UInt64 { b[at..<at + 8].reduce(0) { $0 << 8 | UInt64($1) } }
        self.init(kind: kind, sequence: u64(8), token: u64(16))
    }

    /// The agent's answer to this request.
    public func reply() -> Heartbeat { Heartbeat(kind: .reply, sequence: sequence, token: token) }
}
