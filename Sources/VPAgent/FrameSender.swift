import AgentProtocol
import Glibc

/// Sends one raw Ethernet frame out of a NIC through an AF_PACKET socket: the agent's diagnostic
/// for port security (`DiagnosticFrame`).
enum FrameSender {
    enum Failure: Error, CustomStringConvertible {
        case noInterface(String)
        case failed(String)
        var description: String {
            switch self {
            case .noInterface(let mac): return "no interface with MAC \(mac)"
            case .failed(let message): return message
            }
        }
    }

    /// Returns the number of bytes the kernel took.
    static func send(_ frame: [UInt8], fromInterfaceWithMAC mac: String) throws -> Int {
        guard let name = NetworkWatcher.interfaces().first(where: { $0.mac.lowercased() == mac.lowercased() })?.name else {
            throw Failure.noInterface(mac)
        }
        let index = if_nametoindex(name)
        guard index != 0 else { throw Failure.noInterface(mac) }
        let fd = socket(AF_PACKET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure.failed("packet socket: \(errnoText())") }
        defer { close(fd) }
        var address = LinkAddress(family: UInt16(AF_PACKET), ifindex: Int32(index))
        let sent = frame.withUnsafeBytes { buffer in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, buffer.baseAddress, buffer.count, 0, $0, socklen_t(MemoryLayout<LinkAddress>.size))
                }
            }
        }
        guard sent >= 0 else { throw Failure.failed("sending on \(name): \(errnoText())") }
        return sent
    }
}

/// `struct sockaddr_ll` (<linux/if_packet.h>, which Glibc's module does not export): 20 bytes.
private struct LinkAddress {
    var family: UInt16
    var protocolBE: UInt16 = 0
    var ifindex: Int32
    var hatype: UInt16 = 0
    var pkttype: UInt8 = 0
    var halen: UInt8 = 6
    var addr: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0)
}
