import AgentProtocol
import FaultCheck
import Foundation
import Synchronization

/// Heartbeats to a set of service addresses, every 200 ms each, on a thread of its own (a
/// blocking ping must not hold one of the two threads Swift's concurrency pool has here).
/// What the fault matrix calls "service": every address of a personality answering.
final class ProbeWatch: Sendable {
    private let addresses: [String]
    private let probes = Mutex<[String: [Probe]]>([:])
    private let stopped = Mutex(false)
    private let finished = DispatchSemaphore(value: 0)
    private let epoch: ContinuousClock.Instant

    init(_ addresses: [String], epoch: ContinuousClock.Instant) {
        self.addresses = addresses
        self.epoch = epoch
        let thread = Thread { [self] in run() }
        thread.name = "fault-matrix-probes"
        thread.start()
    }

    /// Stops probing; returns every address's probes (times in seconds since `epoch`).
    func stop() -> [String: [Probe]] {
        stopped.withLock { $0 = true }
        _ = finished.wait(timeout: .now() + 2)
        return probes.withLock { $0 }
    }

    /// Seconds since the epoch, on the same clock as the probes.
    func now() -> Double { (ContinuousClock.now - epoch).seconds }

    private func run() {
        defer { finished.signal() }
        while !stopped.withLock({ $0 }) {
            let round = ContinuousClock.now
            for ip in addresses {
                let at = now()
                let answered = ((try? HeartbeatProbe.ping(ip, timeout: .milliseconds(250))) ?? nil) != nil
                probes.withLock { $0[ip, default: []].append(Probe(at: at, answered: answered)) }
            }
            let wait = round + .milliseconds(200) - ContinuousClock.now
            if wait > .zero { Thread.sleep(forTimeInterval: wait.seconds) }
        }
    }
}
