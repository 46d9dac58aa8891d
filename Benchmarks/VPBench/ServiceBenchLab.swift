import CommandOutput
import Foundation
import NetLab
import ServiceDataPlane
#if canImport(Glibc)
import Glibc
#endif

/// The bench's topology and processes; removes all of it exactly once (normal end, error or signal).
final class ServiceBenchLab: @unchecked Sendable {
    static let bridge = "vpbnch0"
    static let table = ServiceRuleset.tableName(platform: ServiceBenchService.platform)
    static let diagTable = "vp_bench_diag"
    static let clientNamespace = "vpbcl"
    static let backendPrefix = "vpbb"
    static let serviceIP = "10.219.9.1"
    static let clientAddress = "10.219.1.10"
    static let haproxyAddress = "10.219.1.1:8080"
    static let hostBridgeAddress = "10.219.0.1"
    /// Fixed so that a later run finds (and stops) the processes of a crashed one by their pid files.
    static let directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("vpctl-bench-service")

    let dataPlane: DataPlane
    let service: ServiceBenchService
    let tools: Tools
    let backendCount: Int
    var backendAddresses: [String] { (0..<backendCount).map { "10.219.0.\(10 + $0)" } }
    var backendNames: [String] { (0..<backendCount).map { "b\($0 + 1)" } }
    /// Target of the diagnostic bare DNAT rule.
    var bareDNATTarget = "10.219.0.10"

    private let lock = NSLock()
    private var processes: [Process] = []
    private var tornDown = false
    private var oldForwarding: String?
    private var signalSources: [any DispatchSourceSignal] = []
    private(set) var forwardingWasEnabled = false

    let separateSources: Bool
    let clientTWReuse: Bool

    init(backendCount: Int, tools: Tools, separateSources: Bool, clientTWReuse: Bool) throws {
        self.separateSources = separateSources
        self.clientTWReuse = clientTWReuse
        guard geteuid() == 0 else { throw BenchError("the service-throughput bench needs root (namespaces, nftables, ip_forward)") }
        self.backendCount = backendCount
        self.tools = tools
        do { dataPlane = try DataPlane() } catch { throw BenchError("nftables is not usable: \(error)") }
        service = try ServiceBenchService(bridge: Self.bridge, address: Self.serviceIP,
                                          backends: (0..<backendCount).map { (name: "b\($0 + 1)", address: "10.219.0.\(10 + $0)") })
    }

    func backendAddress(named name: String) -> String? {
        backendNames.firstIndex(of: name).map { backendAddresses[$0] }
    }

    // MARK: Signals and teardown

    func installSignalHandlers() {
        signalSources = onInterrupt { [self] number in
            Progress.say("signal \(number): removing the bench topology")
            teardown()
            exit(130)
        }
    }

    /// Stops the processes, removes namespaces, bridge and tables, restores ip_forward. Once.
    func teardown() {
        lock.lock()
        defer { lock.unlock() }
        guard !tornDown else { return }
        tornDown = true
        for p in processes.reversed() { Self.stop(p) }
        processes.removeAll()
        Self.removeLeftovers(dataPlane: dataPlane)
        if let old = oldForwarding {
            try? old.write(toFile: "/proc/sys/net/ipv4/ip_forward", atomically: false, encoding: .utf8)
            oldForwarding = nil
        }
    }

    func track(_ p: Process) {
        lock.lock(); defer { lock.unlock() }
        processes.append(p)
    }

    func untrack(_ p: Process) {
        lock.lock(); defer { lock.unlock() }
        processes.removeAll { $0 === p }
    }

    /// A process this one started.
    static func stop(_ p: Process) {
        guard p.isRunning else { return }
        stop(p.processIdentifier) { p.isRunning }
        p.waitUntilExit()
    }

    /// SIGTERM (nginx and HAProxy stop their workers on it), SIGKILL after 3 s.
    static func stop(_ pid: pid_t, isRunning: () -> Bool) {
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(3)
        while isRunning() && Date() < deadline { usleep(20_000) }
        if isRunning() { kill(pid, SIGKILL) }
    }

    /// Everything a run of this bench creates, whether or not this process created it: processes
    /// named by the pid files in `directory` (checked against their command line first), the
    /// tables, the namespaces, the bridge, the directory.
    static func removeLeftovers(dataPlane: DataPlane) {
        let fm = FileManager.default
        if let files = try? fm.contentsOfDirectory(atPath: directory.path) {
            for file in files where file.hasSuffix(".pid") {
                let pidFile = directory.appendingPathComponent(file).path
                guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
                      let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1 else { continue }
                let cmdline = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")))
                    .map { String(decoding: $0.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self) } ?? ""
                guard cmdline.contains(directory.path) else { continue }
                stop(pid) { kill(pid, 0) == 0 }
            }
        }
        try? dataPlane.remove(table: table)
        try? dataPlane.remove(table: diagTable)
        let namespaces = ((try? Command.run("ip", ["netns", "list"], allowFailure: true)) ?? "")
            .split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
        for ns in namespaces where ns == clientNamespace || (ns.hasPrefix(backendPrefix) && Int(ns.dropFirst(backendPrefix.count)) != nil) {
            if ns == clientNamespace { try? ClientNetwork.remove(name: ns) }
            else { _ = try? Command.run("ip", ["netns", "del", ns], allowFailure: true) }
        }
        _ = try? Command.run("ip", ["link", "del", bridge], allowFailure: true)
        // Connection tracking entries of the bench's addresses (TIME_WAIT lasts 120 s by default):
        // a later run must not start with this run's state.
        for selector in ["--orig-src", "--orig-dst"] {
            _ = try? Command.run("conntrack", ["-D", selector, "10.219.0.0/16"], allowFailure: true)
        }
        try? fm.removeItem(at: directory)
    }

    // MARK: Setup

    /// Sets ip_forward to 1 if it is 0; true when it did (teardown restores it).
    func enableForwarding() -> Bool {
        guard !ClientNetwork.hostForwards() else { return false }
        let old = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_forward", encoding: .utf8)) ?? "0\n"
        lock.lock()
        oldForwarding = old
        lock.unlock()
        try? "1".write(toFile: "/proc/sys/net/ipv4/ip_forward", atomically: false, encoding: .utf8)
        forwardingWasEnabled = true
        return true
    }

    func build() throws {
        let fm = FileManager.default
        try fm.createDirectory(at: Self.directory, withIntermediateDirectories: true)
        // nginx workers run as nobody and open nothing here, but let them read the directory.
        try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: Self.directory.path)

        try Command.run("ip", ["link", "add", Self.bridge, "type", "bridge"])
        try Command.run("ip", ["addr", "add", "\(Self.hostBridgeAddress)/24", "dev", Self.bridge])
        try Command.run("ip", ["link", "set", Self.bridge, "up"])
        for (i, address) in backendAddresses.enumerated() {
            let ns = "\(Self.backendPrefix)\(i + 1)"
            try Command.run("ip", ["netns", "add", ns])
            try Command.run("ip", ["link", "add", "\(ns)-h", "type", "veth", "peer", "name", "\(ns)-c", "netns", ns])
            try Command.run("ip", ["link", "set", "\(ns)-h", "master", Self.bridge])
            try Command.run("ip", ["link", "set", "\(ns)-h", "up"])
            for inside in [["link", "set", "lo", "up"], ["addr", "add", "\(address)/24", "dev", "\(ns)-c"],
                           ["link", "set", "\(ns)-c", "up"], ["route", "add", "default", "via", Self.hostBridgeAddress]] {
                try Command.run("ip", ["netns", "exec", ns, "ip"] + inside)
            }
            let conf = Self.directory.appendingPathComponent("nginx-\(backendNames[i]).conf").path
            try nginxConfig(name: backendNames[i]).write(toFile: conf, atomically: true, encoding: .utf8)
            try start("ip", ["netns", "exec", ns, tools.nginx, "-c", conf], log: "nginx-\(backendNames[i]).out")
        }
        let client = try ClientNetwork.create(name: Self.clientNamespace, subnet: "10.219.1", clients: separateSources ? 3 : 1)
        precondition(client.clients.first == Self.clientAddress)
        if clientTWReuse { try client.exec("sysctl", ["-q", "-w", "net.ipv4.tcp_tw_reuse=1"]) }
        if separateSources {
            // The source address of a connection is the route's preferred source: one per path.
            let dev = "\(Self.clientNamespace)-c"
            try client.exec("ip", ["route", "replace", "default", "via", client.hostAddress, "src", source(.service)])
            try client.exec("ip", ["route", "replace", "10.219.0.0/24", "via", client.hostAddress, "src", source(.direct)])
            try client.exec("ip", ["route", "replace", "\(client.hostAddress)/32", "dev", dev, "src", source(.haproxy)])
        }

        let haproxyConf = Self.directory.appendingPathComponent("haproxy.cfg").path
        try haproxyConfig().write(toFile: haproxyConf, atomically: true, encoding: .utf8)
        let haproxy = try start(tools.haproxy, ["-f", haproxyConf, "-db"], log: "haproxy.out")
        // Its pid file, for the leftover sweep of a later run (its command line names the config).
        try String(haproxy.processIdentifier).write(to: Self.directory.appendingPathComponent("haproxy.pid"), atomically: true, encoding: .utf8)
    }

    @discardableResult
    private func start(_ tool: String, _ arguments: [String], log: String) throws -> Process {
        let handle = try Self.emptyFile(log)
        let p = try Command.start(tool, arguments, output: handle)
        try? handle.close()
        track(p)
        return p
    }

    /// A file of the bench's directory, emptied, open for writing (a process's output).
    static func emptyFile(_ name: String) throws -> FileHandle {
        let url = directory.appendingPathComponent(name)
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        return try FileHandle(forWritingTo: url)
    }

    /// The bench's processes that still run.
    func runningProcesses() -> [Process] {
        lock.lock(); defer { lock.unlock() }
        return processes.filter(\.isRunning)
    }
}
