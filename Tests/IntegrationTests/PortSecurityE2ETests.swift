import AgentClient
import AgentProtocol
import Failover
import Foundation
import Glibc
import Libvirt
import NFTables
import SystemSupport
import Testing

extension RealDaemon { @Suite struct PortSecurityE2ETests {
    /// A guest that forges its source: web's processor sends, out of its NIC on VLAN back, frames
    /// with db's MAC or address, a DHCP answer and gratuitous ARP for db's address. None reaches
    /// the VLAN (captured on the host's side of the bridge); web's genuine frames, sent after them
    /// on the same NIC, do, and db still reaches web.
    @Test func forgedFramesFromAGuestNeverReachTheVLAN() async throws {
        try await FailoverPlatform.with(name: "ags", subnet: 120) { t in
            try await t.bringUp()
            let view = try PlatformView(definition: t.engine.definition, store: t.store)
            let web = try #require(view.devices["web"]?.nics.first { $0.vlan == "back" })
            let db = try #require(view.devices["db"]?.nics.first { $0.vlan == "back" })
            let capture = try BridgeCapture(bridge: try t.conn.network(named: web.spec.network).bridgeName())
            defer { capture.close() }
            let host = "10.120.2.1"
            func udp(_ mac: String, _ ip: String, from port: UInt16 = 7000, to dport: UInt16 = 7000, _ what: String) throws -> [UInt8] {
                try #require(DiagnosticFrame.udp(sourceMAC: mac, sourceIP: ip, destinationIP: host, sourcePort: port,
                                                 destinationPort: dport, payload: Array("vp-ags \(what) \(UUID())".utf8)))
            }
            func arp(_ mac: String, _ ip: String) throws -> [UInt8] {
                try #require(DiagnosticFrame.gratuitousARP(sourceMAC: web.spec.mac, senderMAC: mac, senderIP: ip))
            }
            let forged: [(String, [UInt8])] = [
                ("UDP with db's MAC and address", try udp(db.spec.mac, db.ip, "forged MAC and IP")),
                ("UDP from db's address (a heartbeat answer in db's name)", try udp(web.spec.mac, db.ip, from: AgentPorts.heartbeat, "forged IP")),
                ("a DHCP answer", try udp(web.spec.mac, web.ip, from: 67, to: 68, "DHCP offer")),
                ("gratuitous ARP for db's address", try arp(web.spec.mac, db.ip)),
                ("gratuitous ARP in db's MAC", try arp(db.spec.mac, db.ip)),
            ]
            let genuine = [try udp(web.spec.mac, web.ip, "genuine"), try arp(web.spec.mac, web.ip)]
            let agent = try t.agent("web")
            for (_, frame) in forged { try await agent.sendFrame(frame, fromInterfaceWithMAC: web.spec.mac) }
            for frame in genuine { try await agent.sendFrame(frame, fromInterfaceWithMAC: web.spec.mac) }

            // Sent last on the same NIC: once both arrived, every forged frame was dropped or arrived before them.
            let seen = capture.frames(until: .now + .seconds(10)) { frames in
                genuine.allSatisfy { g in frames.contains { $0.starts(with: g) } }
            }
            for frame in genuine { #expect(seen.contains { $0.starts(with: frame) }, "web's genuine frame reaches the VLAN") }
            for (what, frame) in forged { #expect(!seen.contains { $0.starts(with: frame) }, "\(what) is dropped") }
            #expect(try await t.agent("db").probe(web.ip), "db still reaches web on VLAN back")
        }
        #expect(try !NFTables().hasTable(family: "bridge", name: "vp_ags"), "destroy removes the port-security table")
    }
}}

/// Frames arriving at the host's side of a bridge (an AF_PACKET socket on the bridge device): the
/// broadcasts every member of the VLAN receives.
final class BridgeCapture {
    private let fd: Int32

    init(bridge: String) throws {
        let all = UInt16(0x0003).bigEndian   // ETH_P_ALL (<linux/if_ether.h>, not in Glibc's module)
        fd = socket(AF_PACKET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(all))
        guard fd >= 0 else { throw PlatformError(.internal, nil, "packet socket: \(String(cString: strerror(errno)))") }
        var address = CaptureAddress(family: UInt16(AF_PACKET), protocolBE: all, ifindex: Int32(if_nametoindex(bridge)))
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<CaptureAddress>.size)) }
        }
        guard address.ifindex != 0, bound == 0 else {
            let cause = String(cString: strerror(errno))
            Glibc.close(fd)
            throw PlatformError(.internal, nil, "capturing on bridge \(bridge): \(cause)")
        }
    }

    func close() { Glibc.close(fd) }

    /// Every frame read until `done` holds for them or the deadline passes.
    func frames(until deadline: ContinuousClock.Instant, done: ([[UInt8]]) -> Bool) -> [[UInt8]] {
        var frames: [[UInt8]] = []
        var buffer = [UInt8](repeating: 0, count: 2048)
        while ContinuousClock.now < deadline, !done(frames) {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let left = deadline - ContinuousClock.now
            let ms = max(1, left.pollTimeout)
            guard poll(&poller, 1, ms) > 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { frames.append(Array(buffer[..<n])) }
        }
        return frames
    }
}

/// `struct sockaddr_ll` (<linux/if_packet.h> is not in Glibc's module).
private struct CaptureAddress {
    var family: UInt16
    var protocolBE: UInt16
    var ifindex: Int32
    var hatype: UInt16 = 0
    var pkttype: UInt8 = 0
    var halen: UInt8 = 0
    var addr: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0)
}
