@testable import Failover
import Foundation
import Hosts
import PlatformModel
import StateStore
import Synchronization
import SystemSupport
import TestSupport

/// /proc and libvirt's run directory as a test wants them, including files that cannot be read.
/// `onSignal` changes the files when a signal is sent (a SIGKILL that makes a process a zombie).
final class FakeProcesses: LocalProcesses, @unchecked Sendable {
    let files = Mutex<[String: FileRead]>([:])
    let signals = Mutex<[(pid_t, Int32)]>([])
    let directoryError = Mutex<String?>(nil)
    var onSignal: @Sendable (FakeProcesses, pid_t, Int32) -> Void = { _, _, _ in }

    func read(_ path: String) -> FileRead { files.withLock { $0[path] ?? .missing } }

    func list(_ directory: String) throws -> [String] {
        if let why = directoryError.withLock({ $0 }) { throw PlatformError(.internal, nil, why) }
        let prefix = directory + "/"
        return files.withLock { $0.keys.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) } }
    }

    func signal(_ pid: pid_t, _ signal: Int32) -> Bool {
        signals.withLock { $0.append((pid, signal)) }
        onSignal(self, pid, signal)
        return true
    }

    func set(_ path: String, _ read: FileRead) { files.withLock { $0[path] = read } }
    func set(_ path: String, _ text: String) { set(path, .contents(Array(text.utf8))) }

    /// A running QEMU of `domain` with `pid`, and libvirt's status file saying it carries `macs`.
    func runQEMU(_ domain: String, pid: pid_t, macs: [String] = []) {
        set("\(QEMUProcess.runDirectory)/\(domain).pid", "\(pid)")
        set("/proc/\(pid)/stat", "\(pid) (qemu-system-x86) S 1 \(pid) \(pid) 0")
        set("/proc/\(pid)/status", "Name:\tqemu-system-x86\nThreads:\t5\n")
        set("/proc/\(pid)/cmdline", "/usr/bin/qemu-system-x86_64\0-name\0guest=\(domain),debug-threads=on\0")
        let nics = macs.map { "<interface type='network'><mac address='\($0)'/><source network='n'/></interface>" }.joined()
        set("\(QEMUProcess.runDirectory)/\(domain).xml",
            "<domstatus state='running'><domain type='qemu'><name>\(domain)</name><devices>\(nics)</devices></domain></domstatus>")
    }

    /// Every thread of `pid` gone: a zombie leader with no threads left.
    func reap(_ pid: pid_t) {
        set("/proc/\(pid)/stat", "\(pid) (qemu-system-x86) Z 1 \(pid) \(pid) 0")
        set("/proc/\(pid)/status", "Name:\tqemu-system-x86\nThreads:\t1\n")
        set("/proc/\(pid)/cmdline", "")
    }
}

/// Readiness of each spare as a test wants it.
struct FakeStandbys: StandbyProbe {
    var readiness: [String: StandbyChooser.Readiness]
    func readiness(of processor: String, host: String) -> StandbyChooser.Readiness { readiness[processor] ?? .unusable }
}

/// The stores an engine test can run on: the engine must not care which.
enum EngineStore: CaseIterable, Sendable { case inMemory, sqlite }

/// A platform on libvirt's test driver (which boots nothing): p1..p4 on one host, web on p1 and
/// db on p2, no services. Its state store is its own, in memory unless a test needs the file.
struct EnginePlatform {
    let definition: PlatformDefinition
    let store: any PlatformStore
    let hosts: PlatformHosts
    let processes = FakeProcesses()
    let prefix: String
    /// The definition's file (a reload reads it again).
    let file: String

    init(processors names: [String]? = nil, hot: Bool = false, subnet: String = "10.105.0", confirmTimeoutSeconds: Int = 60,
         store kind: EngineStore = .inMemory) throws {
        let prefix = "fe-u\(UUID().uuidString.prefix(6).lowercased())"
        self.prefix = prefix
        let procs = names ?? (1...4).map { "\(prefix)-p\($0)" }
        let yaml = """
        platform: \(prefix)
        hosts: [{ name: a, uri: "test:///default" }]
        processors:
          vcpus: 1
          memoryMiB: 64
          members: [\(procs.map { "{ name: \($0), host: a }" }.joined(separator: ", "))]
        vlans: [{ name: v, id: 10, subnet: 10.105.0.0/24 }]
        personalities: [{ name: web, nics: [{ vlan: v }] }, { name: db, nics: [{ vlan: v }] }]
        standby: { mode: \(hot ? "hot" : "cold") }
        failover: { confirmTimeoutSeconds: \(confirmTimeoutSeconds) }
        """
        let dir = URL(fileURLWithPath: try ScratchDirectory.make("vp-engine"))
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        file = dir.appendingPathComponent("p.yaml").path
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        definition = try PlatformLoader.load(path: file).definition
        switch kind {
        case .inMemory: store = InMemoryPlatformStore()
        case .sqlite:
            store = try SQLitePlatformStore(path: dir.appendingPathComponent("state", isDirectory: true).appendingPathComponent("s.sqlite").path)
        }
        try store.remember(bindings: ["web": procs[0], "db": procs[1]], newAllocations: [
            NICAllocation(key: NICAllocation.key(personality: "web", vlan: "v"), mac: "02:56:50:05:00:01", ip: "\(subnet).10"),
            NICAllocation(key: NICAllocation.key(personality: "db", vlan: "v"), mac: "02:56:50:05:00:02", ip: "\(subnet).11"),
        ], actor: "test", cause: "test")
        hosts = PlatformHosts([LibvirtHost(name: "a", uri: "test:///default", processes: QEMUProcess(processes))])
    }

    func p(_ n: Int) -> String { definition.processors.members[n - 1].name }

    func engine(_ readiness: [String: StandbyChooser.Readiness]) throws -> FailoverEngine {
        try FailoverEngine(definition: definition, store: store, hosts: hosts, standbys: FakeStandbys(readiness: readiness))
    }

    /// Declares a move of `person` off `source` (a failure unless `planned`).
    @discardableResult
    func declare(_ person: String, off source: String, planned: Bool = false, to target: String? = nil) throws -> FailoverRecord? {
        try store.declare(FailoverRecord(personality: person, source: source, sourceHost: "a", target: target, planned: planned,
                                         reason: "test", detectedAt: Date()),
                          event: PlatformEvent(kind: .detection, detail: "test"))
    }
}
