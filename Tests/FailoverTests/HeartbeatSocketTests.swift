@testable import Failover
import AgentProtocol
import Foundation
import Synchronization
import SystemSupport
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A stand-in agent on loopback: answers heartbeat requests on `address`:`port`, from `address`
/// or, once `spoofFrom` is set, from another address (a guest answering another's heartbeats).
final class LoopbackResponder: @unchecked Sendable {
    let port: UInt16
    private let listener: Int32
    private let spoofer: Int32
    let spoof = Mutex(false)
    /// Reads requests but answers none (a hung guest).
    let mute = Mutex(false)
    private let stopped = Mutex(false)

    init(address: String, spoofFrom: String) throws {
        let fd = try Self.bound(address, port: 0)
        var a = sockaddr_in(); var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        listener = fd
        spoofer = try Self.bound(spoofFrom, port: 0)
        port = UInt16(bigEndian: a.sin_port)
        Thread { [self] in run() }.start()
    }

    static func bound(_ ip: String, port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var a = sockaddr_in(); a.sin_family = sa_family_t(AF_INET); a.sin_port = port.bigEndian
        inet_pton(AF_INET, ip, &a.sin_addr)
        let rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard fd >= 0, rc == 0 else { throw PlatformError(.internal, nil, "binding \(ip): \(String(cString: strerror(errno)))") }
        var timeout = timeval(tv_sec: 0, tv_usec: 50_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    private func run() {
        // At the probers' real-time priority (when allowed): a stand-in that waits behind a
        // saturated CPU for more than the 50 ms timeout would be tested for its lateness, not
        // for the addresses it answers from. (CI saw it miss whole rounds under the e2e load.)
        var parameters = sched_param()
        parameters.sched_priority = ThreadPriority.realtime
        _ = pthread_setschedparam(pthread_self(), SCHED_RR, &parameters)
        var buffer = [UInt8](repeating: 0, count: 64)
        while !stopped.withLock({ $0 }) {
            var from = sockaddr_in(); var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            let n = withUnsafeMutablePointer(to: &from) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(listener, &buffer, 64, 0, $0, &len) } }
            guard n > 0, let request = Heartbeat(decoding: buffer[0..<n]), !mute.withLock({ $0 }) else { continue }
            let reply = request.reply().encoded()
            let out = spoof.withLock { $0 } ? spoofer : listener
            _ = withUnsafePointer(to: &from) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(out, reply, reply.count, 0, $0, len) } }
        }
        close(listener); close(spoofer)
    }

    func stop() { stopped.withLock { $0 = true } }
}

/// Item 13: the prober's socket is close-on-exec, and a reply counts only from the address it
/// was sent to.
struct HeartbeatSocketTests {
    func events(_ seen: borrowing Mutex<[Detection]>, _ kind: String) -> Int {
        seen.withLock { $0.filter { "\($0.kind)".hasPrefix(kind) }.count }
    }

    @Test func theProbersSocketIsCloseOnExec() throws {
        let settings = HeartbeatSettings(intervalMs: nil, timeoutMs: nil, threshold: nil)
        let ledger = SilenceLedger(settings: settings, scheduling: ScriptedScheduling())
        let entry = DestinationEntry(processor: "p1", addresses: [.init(vlan: "back", ip: "127.0.0.1")], settings: settings)
        let prober = try HeartbeatProber(entry: entry, ledger: ledger) { _ in }
        #expect(fcntl(prober.fd, F_GETFD) & FD_CLOEXEC != 0, "a child process (QEMU's helpers, a shell) does not inherit it")
    }

    @Test func aReplyFromAnotherAddressIsNotCounted() async throws {
        let responder = try LoopbackResponder(address: "127.0.0.1", spoofFrom: "127.0.0.2")
        defer { responder.stop() }
        let seen = Mutex<[Detection]>([])
        let monitor = HeartbeatMonitor(settings: HeartbeatSettings(intervalMs: nil, timeoutMs: nil, threshold: nil), port: responder.port) { d in
            seen.withLock { $0.append(d) }
        }
        defer { monitor.stopAll() }
        try monitor.update([HeartbeatTarget(processor: "p1", addresses: [.init(vlan: "back", ip: "127.0.0.1")])])
        // Answered from its own address: reachable, nothing reported.
        try await waitUntil("p1 answered its first heartbeats", within: .seconds(5)) { monitor.armed.contains("p1") }
        #expect(events(seen, "adapterUnreachable") == 0, "\(seen.withLock { $0 })")
        // Now every reply comes from 127.0.0.2: the address it was sent to is silent.
        responder.spoof.withLock { $0 = true }
        try await waitUntil("the spoofed address is unreachable", within: .seconds(5), every: .milliseconds(10)) {
            events(seen, "adapterUnreachable") > 0
        }
        #expect(events(seen, "adapterUnreachable") == 1, "replies from another address do not count: \(seen.withLock { $0 })")
        #expect(events(seen, "processorFailed") >= 1)
    }
}
