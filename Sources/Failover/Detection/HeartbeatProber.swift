import AgentProtocol
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Runs one processor's heartbeat rounds on a dedicated thread with its own UDP socket, so
/// timing does not depend on how busy the controller's task pool is. Each round sends a heartbeat
/// to every address of the processor (the primary and its alternates, and unreachable ones so
/// their recovery is seen) and waits `entry.timeout` for the replies. The entry decides what the
/// outcomes mean: an address past its threshold is unreachable; the processor fails only when
/// every address has.
final class HeartbeatProber: @unchecked Sendable {
    typealias Sink = @Sendable (_ processor: String, _ events: [DestinationEntry.Event], _ at: Date) -> Void

    let processor: String
    let addresses: [DestinationEntry.Address]
    private var entry: DestinationEntry
    private let port: UInt16
    private let token = UInt64.random(in: 1...UInt64.max)
    private let sink: Sink
    /// Replaced when found closed behind our back (see `OwnedDescriptor`).
    private var socket: OwnedDescriptor
    private var fd: Int32 { socket.fd }
    private let stopped = Mutex(false)
    private var thread: Thread?
    /// Send times of heartbeats in flight, by sequence number.
    private var inFlight: [UInt64: ContinuousClock.Instant] = [:]
    /// The entry's addresses as of the last round, for readers on other threads (service health).
    private let published: Mutex<[DestinationEntry.Address]>

    init(entry: DestinationEntry, port: UInt16 = AgentPorts.heartbeat, sink: @escaping Sink) throws {
        self.entry = entry
        self.processor = entry.processor
        self.addresses = entry.addresses
        published = Mutex(entry.addresses)
        self.port = port
        self.sink = sink
        socket = try Self.openSocket()
    }

    private static func openSocket() throws -> OwnedDescriptor {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard let owned = OwnedDescriptor(fd) else {
            throw FailoverError("creating a heartbeat socket: \(String(cString: strerror(errno)))")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK | O_CLOEXEC)
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
    private var isStopped: Bool { stopped.withLock { $0 } }

    private func run() {
        let clock = ContinuousClock()
        var due = clock.now
        var round: UInt64 = 0
        while !isStopped {
            if due > clock.now { Thread.sleep(forTimeInterval: (due - clock.now).seconds) }
            // If this thread itself was starved (host overloaded), silence means nothing: skip.
            let late = clock.now - due
            due = clock.now + entry.settings.interval
            round += 1
            guard late < entry.settings.interval else { drain(until: clock.now); continue }
            if entry.declared { continue }
            // A socket closed under us says nothing about the guest: open a new one, skip the round.
            if !socket.isIntact {
                guard let fresh = try? Self.openSocket() else { continue }
                socket = fresh
                inFlight.removeAll()
                continue
            }
            inFlight = inFlight.filter { clock.now - $0.value < .seconds(2) }

            // Every address gets this round's heartbeat at once, primary first: a dead alternate is
            // noticed before it is needed, and a dead primary costs no extra wait.
            let all = Array(entry.addresses.indices)
            for index in all { send(to: index, sequence: round << 8 | UInt64(index)) }
            let deadline = clock.now + entry.timeout
            var answered = Set<Int>()
            while answered.count < all.count, clock.now < deadline {
                // A late reply to an earlier round is still a sign of life: it resets the misses.
                for reply in receive(until: deadline) {
                    let index = Int(reply.sequence & 0xff)
                    if reply.sequence >> 8 == round { answered.insert(index) }
                    publish(entry.replied(index, after: reply.rtt))
                }
            }
            // A wait that overran by a whole interval is the controller stalling, not the guest;
            // a socket lost during the round loses its replies too.
            if clock.now - deadline > entry.settings.interval || !socket.isIntact { continue }
            for index in all where !answered.contains(index) { publish(entry.missed(index)) }
            published.withLock { $0 = entry.addresses }
        }
    }

    /// Each address's state in the destination table as of the last complete round.
    var snapshot: [DestinationEntry.Address] { published.withLock { $0 } }

    private func publish(_ events: [DestinationEntry.Event]) {
        if !events.isEmpty { sink(processor, events, Date()) }
    }

    private func send(to index: Int, sequence: UInt64) {
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_port = port.bigEndian
        guard inet_pton(AF_INET, addresses[index].ip, &target.sin_addr) == 1 else { return }
        let bytes = Heartbeat(kind: .request, sequence: sequence, token: token).encoded()
        inFlight[sequence] = ContinuousClock.now
        _ = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }

    private struct Reply { var sequence: UInt64; var rtt: Duration }

    /// Replies that arrive before `deadline` (returns as soon as at least one arrived).
    private func receive(until deadline: ContinuousClock.Instant) -> [Reply] {
        let left = deadline - ContinuousClock.now
        guard left > .zero else { return [] }
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, Int32(max(1, (left.seconds * 1000).rounded(.up)))) > 0 else { return [] }
        var replies: [Reply] = []
        var buffer = [UInt8](repeating: 0, count: 64)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else { break }
            guard let hb = Heartbeat(decoding: buffer[0..<n]), hb.kind == .reply, hb.token == token,
                  let sentAt = inFlight.removeValue(forKey: hb.sequence) else { continue }
            replies.append(Reply(sequence: hb.sequence, rtt: ContinuousClock.now - sentAt))
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

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
