import AgentProtocol
import CProcessWatch
import Foundation
import Metrics
import Synchronization
#if canImport(Glibc)
import Glibc
import SystemSupport
#endif

/// Runs one processor's heartbeat rounds on a dedicated thread with its own UDP socket, so
/// timing does not depend on how busy the controller's task pool is. Each round sends a heartbeat
/// to every address of the processor (the primary and its alternates, and unreachable ones so
/// their recovery is seen) and waits `entry.timeout` for the replies. The entry decides what the
/// outcomes mean: an address past its threshold is unreachable. From half the threshold of
/// silence on every address, the processor is reported failed (again each round once the last
/// report was judged), and the declaration gate (through `ledger`) decides whether the silence
/// is the processor's.
final class HeartbeatProber: @unchecked Sendable {
    typealias Sink = @Sendable (Detection) -> Void

    let processor: String
    let addresses: [DestinationEntry.Address]
    private var entry: DestinationEntry
    private let port: UInt16
    private let token = UInt64.random(in: 1...UInt64.max)
    private let ledger: SilenceLedger
    private let sink: Sink
    /// Replaced when found closed behind our back (see `OwnedDescriptor`).
    private var socket: OwnedDescriptor
    var fd: Int32 { socket.fd }
    private let stopped = Mutex(false)
    private var thread: Thread?
    /// Heartbeats in flight, by sequence number: when and to which address they were sent. A
    /// reply counts only from the address its request went to.
    private var inFlight: [UInt64: (sentAt: ContinuousClock.Instant, to: in_addr_t)] = [:]
    /// The entry's addresses as of the last round, for readers on other threads (service health).
    private let published: Mutex<[DestinationEntry.Address]>
    /// Round-trip times for the metrics, only this thread's (nil: not measured).
    private var rtts: RTTBatch?

    init(entry: DestinationEntry, port: UInt16 = AgentPorts.heartbeat, ledger: SilenceLedger, rtt: Timer? = nil,
         sink: @escaping Sink) throws {
        self.entry = entry
        rtts = rtt.map { RTTBatch(timer: $0) }
        self.processor = entry.processor
        self.addresses = entry.addresses
        published = Mutex(entry.addresses)
        self.port = port
        self.ledger = ledger
        self.sink = sink
        socket = try Self.openSocket()
    }

    /// Close-on-exec from the start (a child such as QEMU's helpers must not inherit it), and
    /// non-blocking. (`fcntl(F_SETFL, O_CLOEXEC)` does nothing: FD_CLOEXEC is a descriptor flag.)
    private static func openSocket() throws -> OwnedDescriptor {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard let owned = OwnedDescriptor(fd) else {
            throw PlatformError(.internal, "heartbeat socket", "cannot create it: \(String(cString: strerror(errno)))")
        }
        return owned
    }

    deinit { socket.close() }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "heartbeat \(processor)"
        thread.qualityOfService = .userInteractive
        self.thread = thread
        thread.start()
    }

    func stop() { stopped.withLock { $0 = true } }
    /// Every address has answered once: from now on the entry judges the processor's silence.
    var isArmed: Bool { armed.withLock { $0 } }
    private let armed = Mutex(false)
    private var isStopped: Bool { stopped.withLock { $0 } }

    private func run() {
        // Named for `top -H` and /proc (the kernel keeps 15 bytes); Foundation does not pass it on.
        _ = vp_set_thread_name("hb \(processor)")
        ThreadPriority.raiseCurrentThreadToRealtime()
        let clock = ContinuousClock()
        var due = clock.now
        var round: UInt64 = 0
        var lastReply = clock.now
        while !isStopped {
            if due > clock.now { Thread.sleep(forTimeInterval: (due - clock.now).seconds) }
            // If this thread itself was starved (host overloaded), silence means nothing: skip.
            let late = clock.now - due
            due = clock.now + entry.settings.interval
            round += 1
            guard late < entry.settings.interval else { ledger.round(late: late); drain(until: clock.now); continue }
            // A socket closed under us says nothing about the guest: open a new one, skip the round.
            if !socket.isIntact {
                guard let fresh = try? Self.openSocket() else { continue }
                socket = fresh
                inFlight.removeAll()
                continue
            }
            inFlight = inFlight.filter { clock.now - $0.value.sentAt < .seconds(2) }

            // Every address gets this round's heartbeat at once, primary first: a dead alternate is
            // noticed before it is needed, and a dead primary costs no extra wait.
            let all = Array(entry.addresses.indices)
            for index in all { send(to: index, sequence: round << 8 | UInt64(index)) }
            let deadline = clock.now + entry.timeout
            var answered = Set<Int>()
            var heard = false
            func take(_ replies: [Reply]) {
                // A late reply to an earlier round is still a sign of life: it resets the misses.
                for reply in replies {
                    let index = Int(reply.sequence & 0xff)
                    if reply.sequence >> 8 == round { answered.insert(index) }
                    heard = true
                    rtts?.add(reply.rtt)
                    publish(entry.replied(index, after: reply.rtt))
                }
            }
            while answered.count < all.count, clock.now < deadline { take(receive(until: deadline)) }
            // Replies that arrived while this thread waited for a CPU are not misses.
            if answered.count < all.count { take(receive(until: clock.now)) }
            if !isArmed, entry.addresses.allSatisfy(\.armed) { armed.withLock { $0 = true } }
            if heard { lastReply = clock.now; ledger.answered(processor) }
            rtts?.flushIfDue(now: clock.now)
            let overrun = clock.now - deadline
            ledger.round(late: max(late, overrun))
            // A wait that overran by a whole interval is the controller stalling, not the guest;
            // a socket lost during the round loses its replies too.
            if overrun > entry.settings.interval || !socket.isIntact { continue }
            for index in all where !answered.contains(index) { publish(entry.missed(index)) }
            published.withLock { $0 = entry.addresses }
            guard !heard, entry.addresses.contains(where: \.armed) else { continue }
            ledger.silent(processor, since: lastReply, pastThreshold: entry.isSilent)
            // Reported from half the threshold on: a QEMU seen stopped or gone is declared then;
            // anything else waits for the threshold (and for the gate).
            if entry.silentRounds >= max(1, entry.settings.threshold / 2), ledger.shouldReport(processor) {
                sink(Detection(subject: processor, kind: .processorFailed(reason: entry.silenceReason), source: .heartbeat))
            }
        }
    }

    /// Each address's state in the destination table as of the last complete round.
    var snapshot: [DestinationEntry.Address] { published.withLock { $0 } }

    private func publish(_ events: [DestinationEntry.Event]) {
        for event in events {
            let kind: Detection.Kind = switch event {
            case .adapterUnreachable(let vlan, let ip, _): .adapterUnreachable(vlan: vlan, ip: ip)
            case .adapterReachable(let vlan, let ip): .adapterReachable(vlan: vlan, ip: ip)
            }
            sink(Detection(subject: processor, kind: kind, source: .heartbeat))
        }
    }

    private func send(to index: Int, sequence: UInt64) {
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_port = port.bigEndian
        guard inet_pton(AF_INET, addresses[index].ip, &target.sin_addr) == 1 else { return }
        let bytes = Heartbeat(kind: .request, sequence: sequence, token: token).encoded()
        inFlight[sequence] = (ContinuousClock.now, target.sin_addr.s_addr)
        _ = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }

    private struct Reply { var sequence: UInt64; var rtt: Duration }

    /// Replies that arrive before `deadline` (returns as soon as at least one arrived; with a
    /// deadline passed, only those already waiting).
    private func receive(until deadline: ContinuousClock.Instant) -> [Reply] {
        let left = deadline - ContinuousClock.now
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, left > .zero ? max(1, left.pollTimeout) : 0) > 0 else { return [] }
        var replies: [Reply] = []
        var buffer = [UInt8](repeating: 0, count: 64)
        var from = sockaddr_in()
        while true {
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let n = withUnsafeMutablePointer(to: &from) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buffer, buffer.count, 0, $0, &length) }
            }
            guard n > 0 else { break }
            guard let hb = Heartbeat(decoding: buffer[0..<n]), hb.kind == .reply, hb.token == token,
                  let sent = inFlight[hb.sequence], from.sin_addr.s_addr == sent.to, from.sin_port == port.bigEndian
            else { continue }
            inFlight[hb.sequence] = nil
            replies.append(Reply(sequence: hb.sequence, rtt: ContinuousClock.now - sent.sentAt))
        }
        return replies
    }

    /// Discards replies of skipped rounds.
    private func drain(until: ContinuousClock.Instant) {
        var buffer = [UInt8](repeating: 0, count: 64)
        while recv(fd, &buffer, buffer.count, 0) > 0 {}
        inFlight.removeAll()
    }
}

