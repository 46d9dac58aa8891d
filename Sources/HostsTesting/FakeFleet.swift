import Hosts
import Synchronization
#if canImport(Testing)
import Testing
#endif

/// The fake hosts of one platform: the invariants hold across hosts, so they are checked here.
/// A violation is recorded (and, in a swift-testing test, fails it on the spot).
public final class FakeFleet: Sendable {
    private let hosts = Mutex<[FakeHost]>([])
    private let found = Mutex<[String]>([])

    public init() {}

    func join(_ host: FakeHost) { hosts.withLock { $0.append(host) } }

    /// Every invariant broken so far, each naming the call that broke it.
    public var violations: [String] { found.withLock { $0 } }

    /// One MAC on at most one running domain; one volume open in at most one running domain.
    func check(after call: String) {
        var macs: [String: [String]] = [:], volumes: [String: [String]] = [:]
        for host in hosts.withLock({ $0 }) {
            for (domain, devices) in host.running {
                for nic in devices.nics { macs[nic.mac, default: []].append("\(domain)@\(host.name)") }
                for disk in devices.disks { volumes[disk.source, default: []].append("\(domain)@\(host.name)") }
            }
        }
        var broken: [String] = []
        for (mac, holders) in macs where holders.count > 1 {
            broken.append("after \(call): MAC \(mac) is on \(holders.count) running domains (\(holders.sorted().joined(separator: ", ")))")
        }
        for (volume, holders) in volumes where holders.count > 1 {
            broken.append("after \(call): volume \(volume) has \(holders.count) running writers (\(holders.sorted().joined(separator: ", ")))")
        }
        guard !broken.isEmpty else { return }
        found.withLock { $0 += broken }
        #if canImport(Testing)
        for b in broken { Issue.record(Comment(rawValue: b)) }
        #endif
    }
}
