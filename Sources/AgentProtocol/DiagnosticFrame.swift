/// Raw Ethernet frames for the agent's diagnostic `POST /v1/diagnostics/frame`: an operator (or a
/// test) has a processor send exactly these bytes out of one of its NICs, forged source included,
/// to check that the host's port security drops what a guest must not send. Anything a guest's root
/// can do; the endpoint only makes it reachable without logging in to the guest.
public enum DiagnosticFrame {
    public static let broadcastMAC = "ff:ff:ff:ff:ff:ff"
    /// Ethernet payload limits the agent accepts: a full header, at most a standard 1500-byte MTU.
    public static let minimumBytes = 14, maximumBytes = 1514

    /// Ethernet + IPv4 + UDP (UDP checksum 0: none, as IPv4 allows).
    public static func udp(sourceMAC: String, destinationMAC: String = broadcastMAC, sourceIP: String,
                           destinationIP: String, sourcePort: UInt16, destinationPort: UInt16, payload: [UInt8]) -> [UInt8]? {
        guard let src = mac(sourceMAC), let dst = mac(destinationMAC),
              let sip = ipv4(sourceIP), let dip = ipv4(destinationIP) else { return nil }
        let udpLength = 8 + payload.count
        var ip: [UInt8] = [0x45, 0, UInt8((20 + udpLength) >> 8), UInt8((20 + udpLength) & 0xff),
                           0, 0, 0x40, 0,   // id 0, don't fragment
                           64, 17, 0, 0] + sip + dip
        let sum = checksum(ip)
        ip[10] = UInt8(sum >> 8); ip[11] = UInt8(sum & 0xff)
        let udp: [UInt8] = [UInt8(sourcePort >> 8), UInt8(sourcePort & 0xff), UInt8(destinationPort >> 8),
                            UInt8(destinationPort & 0xff), UInt8(udpLength >> 8), UInt8(udpLength & 0xff), 0, 0]
        return dst + src + [0x08, 0x00] + ip + udp + payload
    }

    /// An ARP announcement (gratuitous ARP reply, broadcast): "`senderIP` is at `senderMAC`".
    public static func gratuitousARP(sourceMAC: String, senderMAC: String, senderIP: String) -> [UInt8]? {
        guard let src = mac(sourceMAC), let sha = mac(senderMAC), let spa = ipv4(senderIP) else { return nil }
        let arp: [UInt8] = [0, 1, 0x08, 0x00, 6, 4, 0, 2] + sha + spa + [UInt8](repeating: 0xff, count: 6) + spa
        return [UInt8](repeating: 0xff, count: 6) + src + [0x08, 0x06] + arp
    }

    public static func mac(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ":")
        guard parts.count == 6 else { return nil }
        let bytes = parts.compactMap { $0.count == 2 ? UInt8($0, radix: 16) : nil }
        return bytes.count == 6 ? bytes : nil
    }

    public static func ipv4(_ text: String) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        let bytes = parts.compactMap { UInt8($0) }
        return bytes.count == 4 ? bytes : nil
    }

    /// The Internet checksum (RFC 1071) of an IPv4 header.
    static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        for i in stride(from: 0, to: bytes.count, by: 2) {
            sum += UInt32(bytes[i]) << 8 | UInt32(i + 1 < bytes.count ? bytes[i + 1] : 0)
        }
        while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
        return ~UInt16(sum)
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xf)]] })
    }

    public static func bytes(hex: String) -> [UInt8]? {
        let chars = Array(hex.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        for i in stride(from: 0, to: chars.count, by: 2) {
            guard let byte = UInt8(String(decoding: chars[i...i + 1], as: UTF8.self), radix: 16) else { return nil }
            out.append(byte)
        }
        return out
    }
}

/// Body of `POST /v1/diagnostics/frame`.
public struct FrameRequest: Codable, Sendable, Equatable {
    /// The MAC of the guest NIC to send from (its real MAC: the frame's source may differ).
    public var interfaceMAC: String
    /// The whole Ethernet frame, hex, without FCS.
    public var frameHex: String
    public init(interfaceMAC: String, frameHex: String) { self.interfaceMAC = interfaceMAC; self.frameHex = frameHex }
}
