@testable import NFTables
import Testing

/// The kernel's answer to NFT_MSG_GETGEN as read back (bytes captured from this kernel's reply):
/// the generation id is big-endian after the header and nfgenmsg; a refusal is the kernel's error.
struct NFTGenerationTests {
    static func bytes(_ hex: String) -> [UInt8] {
        stride(from: 0, to: hex.count, by: 2).map { i in
            let start = hex.index(hex.startIndex, offsetBy: i)
            return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)!
        }
    }

    @Test func theGenerationIdIsReadFromTheKernelsAnswer() throws {
        // NFT_MSG_NEWGEN: NFTA_GEN_ID 1, NFTA_GEN_PROC_PID 10700, NFTA_GEN_PROC_NAME "python3".
        let reply = Self.bytes("300000000f0a000001000000cc29000000000001080001000000000108000200000029cc0c000300707974686f6e3300")
        #expect(try NFTables.parseGeneration(reply) == 1)
        var later = reply
        later[27] = 0x2a
        #expect(try NFTables.parseGeneration(later) == 42)
    }

    @Test func aRefusalIsTheKernelsError() {
        // NLMSG_ERROR with -EPERM, then the request it refuses.
        let reply = Self.bytes("240000000200000001000000cc290000ffffffff14000000100a01000100000000000000")
        #expect { try NFTables.parseGeneration(reply) } throws: { error in
            (error as? NFTablesError).map { "\($0)".contains("Operation not permitted") } ?? false
        }
    }
}
