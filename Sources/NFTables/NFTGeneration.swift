import Foundation
import SystemSupport
#if canImport(Glibc)
import Glibc
#endif

extension NFTables {
    /// The kernel's nftables generation in this network namespace: a number it bumps with every
    /// committed nftables transaction, whoever makes it (`NFT_MSG_GETGEN` over netlink, as `nft`
    /// itself asks before it trusts its cache). The same number means the same ruleset. Needs
    /// CAP_NET_ADMIN, as every nftables read does.
    public static func generation() throws -> UInt32 {
        let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), netlinkNetfilter)
        guard fd >= 0 else { throw NFTablesError.refused("opening a netfilter netlink socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var wait = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        // nlmsghdr (length, type, flags, sequence, port) then nfgenmsg (family, version, resource id).
        var request: [UInt8] = []
        request += bytes(UInt32(20)) + bytes(UInt16(subsystemNFTables << 8 | messageGetGen)) + bytes(flagRequest)
        request += bytes(UInt32(1)) + bytes(UInt32(0)) + [UInt8(AF_UNSPEC), 0, 0, 0]
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else {
            throw NFTablesError.refused("asking the kernel for the nftables generation: \(String(cString: strerror(errno)))")
        }
        var reply = [UInt8](repeating: 0, count: 512)
        let n = recv(fd, &reply, reply.count, 0)
        guard n >= 16 else { throw NFTablesError.refused("no nftables generation from the kernel: \(String(cString: strerror(errno)))") }
        return try parseGeneration(Array(reply[0..<n]))
    }

    /// The generation id in the kernel's answer to `NFT_MSG_GETGEN`; its error when it refused.
    static func parseGeneration(_ reply: [UInt8]) throws -> UInt32 {
        func u16(_ at: Int) -> UInt16 { reply[at..<at + 2].withUnsafeBytes { $0.loadUnaligned(as: UInt16.self) } }
        func u32(_ at: Int) -> UInt32 { reply[at..<at + 4].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) } }
        guard reply.count >= 20 else { throw NFTablesError.refused("the kernel's nftables generation answer is \(reply.count) bytes") }
        let type = u16(4)
        if type == messageError {
            let code = -Int32(bitPattern: u32(16))
            throw NFTablesError.refused("reading the nftables generation: \(String(cString: strerror(code)))")
        }
        guard type == UInt16(subsystemNFTables << 8 | messageNewGen) else {
            throw NFTablesError.refused("the kernel answered message type \(type) for the nftables generation")
        }
        // Attributes (length, type, value padded to 4 bytes) after the 16-byte header and nfgenmsg.
        let end = min(Int(u32(0)), reply.count)
        var at = 20
        while at + 4 <= end {
            let length = Int(u16(at)), kind = u16(at + 2) & 0x3fff
            guard length >= 4 else { break }
            if kind == attributeGenID, length >= 8, at + 8 <= end { return UInt32(bigEndian: u32(at + 4)) }
            at += (length + 3) & ~3
        }
        throw NFTablesError.refused("the kernel's nftables generation answer carries no generation id")
    }

    private static func bytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }

    // linux/netlink.h, linux/netfilter/nfnetlink.h, linux/netfilter/nf_tables.h
    private static let netlinkNetfilter: Int32 = 12
    private static let flagRequest: UInt16 = 1
    private static let messageError: UInt16 = 2
    private static let subsystemNFTables = 10
    private static let messageNewGen = 15
    private static let messageGetGen = 16
    private static let attributeGenID: UInt16 = 1
}
