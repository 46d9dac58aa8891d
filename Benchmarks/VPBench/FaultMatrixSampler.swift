import FaultCheck
import Foundation
import Reconciler
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Reads every processor of the fault matrix's platform every 50 ms, on a thread of its own, and
/// feeds the samples to a `CarrierChecker` while a run is open.
///
/// A domain's live XML is read from the status file libvirt keeps for each running QEMU domain
/// (/run/libvirt/qemu/<name>.xml, `<domstatus>` around the live `<domain>`), and whether it runs
/// from its QEMU process. Not through the API: listing domains waits ~1.5 s while libvirt cleans
/// up a killed one, and fails while libvirtd restarts — exactly the moments a move happens in.
/// Anything that cannot be read makes the sample unchecked; nothing is guessed.
final class CarrierSampler: Sendable {
    static let interval = Duration.milliseconds(50)
    private let domains: [String]
    private let checker = Mutex<CarrierChecker?>(nil)
    private let stopped = Mutex(false)
    private let finished = DispatchSemaphore(value: 0)

    init(domains: [String]) {
        self.domains = domains
        let thread = Thread { [self] in run() }
        thread.name = "fault-matrix-sampler"
        thread.start()
    }

    /// Starts a run's checks afresh.
    func begin() { checker.withLock { $0 = CarrierChecker() } }

    /// Ends the run's checks and returns them.
    func end() -> CarrierChecker { checker.withLock { c in defer { c = nil }; return c ?? CarrierChecker() } }

    /// Stops the thread (and waits for it, up to a second).
    func stop() {
        stopped.withLock { $0 = true }
        _ = finished.wait(timeout: .now() + 1)
    }

    private func run() {
        defer { finished.signal() }
        let clock = ContinuousClock()
        let epoch = clock.now
        var cache: [String: (bytes: [UInt8], reading: DomainReading)] = [:]
        var next = clock.now
        while !stopped.withLock({ $0 }) {
            next += Self.interval
            if checker.withLock({ $0 != nil }) {
                var readings: [String: DomainReading] = [:]
                for name in domains { readings[name] = Self.read(name, cache: &cache) }
                let sample = CarrierSample(at: (clock.now - epoch).seconds, domains: readings)
                checker.withLock { _ = $0?.add(sample) }
            }
            // A late sample is followed at once by the next, not skipped silently.
            if next > clock.now { Thread.sleep(forTimeInterval: (next - clock.now).seconds) } else { next = clock.now }
        }
    }

    /// One domain as libvirt and the kernel show it now.
    static func read(_ name: String, cache: inout [String: (bytes: [UInt8], reading: DomainReading)]) -> DomainReading {
        let dir = "/run/libvirt/qemu"
        let pidText: String
        switch File.read("\(dir)/\(name).pid") {
        case .missing: return .notRunning // libvirt runs no QEMU for it
        case .failed(let why): return .unreadable("pid file of \(name): \(why)")
        case .bytes(let b): pidText = String(decoding: b, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let pid = Int32(pidText) else { return .unreadable("pid file of \(name) holds \"\(pidText)\"") }
        switch File.read("/proc/\(pid)/status") {
        case .missing: return .notRunning
        case .failed(let why): return .unreadable("/proc/\(pid)/status of \(name): \(why)")
        case .bytes(let b):
            // The leader a zombie and no thread left: nothing of that QEMU runs any more.
            let status = String(decoding: b, as: UTF8.self)
            let field = { (key: String) in status.split(separator: "\n").first { $0.hasPrefix(key) }?.dropFirst(key.count)
                .trimmingCharacters(in: .whitespaces) }
            if field("State:")?.hasPrefix("Z") == true, (field("Threads:").flatMap { Int($0) } ?? 0) <= 1 { return .notRunning }
        }
        switch File.read("/proc/\(pid)/cmdline") {
        case .missing: return .notRunning
        case .failed(let why): return .unreadable("/proc/\(pid)/cmdline of \(name): \(why)")
        case .bytes(let b):
            // Empty for a zombie leader whose threads still run: still this QEMU. Otherwise a
            // recycled pid means the QEMU is gone.
            let args = b.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if !b.isEmpty && !args.contains(where: { $0 == "guest=\(name)" || $0.hasPrefix("guest=\(name),") }) { return .notRunning }
        }
        switch File.read("\(dir)/\(name).xml") {
        case .missing: return .unreadable("\(name) runs (pid \(pid)) but has no status file")
        case .failed(let why): return .unreadable("status file of \(name): \(why)")
        case .bytes(let b):
            if let cached = cache[name], cached.bytes == b { return cached.reading }
            guard let facts = try? DomainFacts(xml: String(decoding: b, as: UTF8.self)) else {
                return .unreadable("status file of \(name) does not parse")
            }
            let reading = DomainReading.running(macs: Set(facts.nics.map(\.mac)), volumes: Set(facts.disks.map(\.source)))
            cache[name] = (b, reading)
            return reading
        }
    }
}

/// Whole files (of /proc too, which report size 0) with plain read(2), telling "no such file"
/// apart from a failure to read.
enum File {
    enum Result { case bytes([UInt8]), missing, failed(String) }

    static func read(_ path: String) -> Result {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return errno == ENOENT || errno == ESRCH ? .missing : .failed(String(cString: strerror(errno))) }
        defer { close(fd) }
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = Glibc.read(fd, &buffer, buffer.count)
            if n == 0 { return .bytes(result) }
            if n < 0 { return errno == ESRCH || errno == ENOENT ? .missing : .failed(String(cString: strerror(errno))) }
            result += buffer[0..<n]
        }
    }
}
