import AgentProtocol
import Testing

/// The frames the agent's diagnostic sends: laid out as on the wire, with a valid IPv4 checksum.
@Suite struct DiagnosticFrameTests {
    @Test func udpFrameIsEthernetIPv4UDPWithTheGivenSource() throws {
        let frame = try #require(DiagnosticFrame.udp(sourceMAC: "02:00:00:00:00:01", sourceIP: "10.1.2.3", destinationIP: "10.1.2.1",
                                                     sourcePort: 67, destinationPort: 68, payload: Array("hi".utf8)))
        #expect(frame.count == 14 + 20 + 8 + 2)
        #expect(Array(frame[0..<6]) == [UInt8](repeating: 0xff, count: 6))
        #expect(Array(frame[6..<12]) == [2, 0, 0, 0, 0, 1])
        #expect(Array(frame[12..<14]) == [0x08, 0x00])
        let ip = Array(frame[14..<34])
        #expect(ip[0] == 0x45 && ip[9] == 17)
        #expect(Array(ip[12..<16]) == [10, 1, 2, 3] && Array(ip[16..<20]) == [10, 1, 2, 1])
        // A header with its checksum sums to 0xffff (RFC 1071).
        var sum: UInt32 = 0
        for i in stride(from: 0, to: 20, by: 2) { sum += UInt32(ip[i]) << 8 | UInt32(ip[i + 1]) }
        while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
        #expect(sum == 0xffff)
        #expect(Array(frame[34..<38]) == [0, 67, 0, 68])
        #expect(Array(frame[42...]) == Array("hi".utf8))
    }

    @Test func gratuitousARPAnnouncesTheSender() throws {
        let frame = try #require(DiagnosticFrame.gratuitousARP(sourceMAC: "02:00:00:00:00:01", senderMAC: "02:00:00:00:00:02",
                                                               senderIP: "10.1.2.9"))
        #expect(frame.count == 42)
        #expect(Array(frame[12..<14]) == [0x08, 0x06])
        #expect(Array(frame[20..<22]) == [0, 2])                  // reply
        #expect(Array(frame[22..<28]) == [2, 0, 0, 0, 0, 2])      // sender MAC
        #expect(Array(frame[28..<32]) == [10, 1, 2, 9])           // sender IP
        #expect(Array(frame[38..<42]) == [10, 1, 2, 9])           // target IP: the same (an announcement)
    }

    @Test func malformedAddressesAndHexAreRejected() {
        #expect(DiagnosticFrame.udp(sourceMAC: "02:00:00:00:01", sourceIP: "10.1.2.3", destinationIP: "10.1.2.1",
                                    sourcePort: 1, destinationPort: 2, payload: []) == nil)
        #expect(DiagnosticFrame.ipv4("10.1.2.256") == nil && DiagnosticFrame.ipv4("10.1.2") == nil)
        #expect(DiagnosticFrame.bytes(hex: "abc") == nil && DiagnosticFrame.bytes(hex: "zz") == nil)
        #expect(DiagnosticFrame.bytes(hex: DiagnosticFrame.hex([0, 1, 0xfe, 0xff])) == [0, 1, 0xfe, 0xff])
    }
}
