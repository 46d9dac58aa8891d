import Foundation
import Hosts
#if canImport(Glibc)
import Glibc
#endif

/// A process's threads at one instant, as the scheduler sees them: each thread's state letter and
/// how long it has run and how long it has waited on a run queue for a CPU (its run delay).
/// The second source behind a heartbeat-only declaration: a starved guest waits for a CPU, a
/// stopped one is in state T, a dead one is gone.
public struct ProcessSchedule: Sendable, Equatable {
    public struct Thread: Sendable, Equatable {
        public var tid: Int32
        /// QEMU names its vCPU threads "CPU 0/TCG" or "CPU 0/KVM" (libvirt passes debug-threads=on).
        public var name: String
        /// R runnable, S sleeping, D uninterruptible, T stopped (SIGSTOP), t traced, Z zombie, X dead.
        public var state: Character
        public var ran: Duration
        public var waited: Duration

        public init(tid: Int32, name: String, state: Character, ran: Duration, waited: Duration) {
            self.tid = tid; self.name = name; self.state = state; self.ran = ran; self.waited = waited
        }

        var isVCPU: Bool { name.hasPrefix("CPU ") }
        var isStopped: Bool { state == "T" || state == "t" }
        var hasExited: Bool { state == "Z" || state == "X" }
    }

    public var pid: Int32
    /// The leader's start time (clock ticks after boot): a recycled pid has another.
    public var started: UInt64
    public var at: ContinuousClock.Instant
    public var threads: [Thread]

    public init(pid: Int32, started: UInt64, at: ContinuousClock.Instant, threads: [Thread]) {
        self.pid = pid; self.started = started; self.at = at; self.threads = threads
    }

    /// One line of /proc/<pid>/task/<tid>/stat: "tid (comm) S ppid …", comm may hold spaces and
    /// parentheses, so the fields are counted from the last ")". Returns (name, state, start time).
    static func parseStat(_ line: String) -> (name: String, state: Character, started: UInt64)? {
        guard let open = line.firstIndex(of: "("), let close = line.lastIndex(of: ")") else { return nil }
        let fields = line[line.index(after: close)...].split(separator: " ")
        // fields[0] is stat field 3 (state); the start time is field 22.
        guard fields.count > 19, let state = fields[0].first, let started = UInt64(fields[19]) else { return nil }
        return (String(line[line.index(after: open)..<close]), state, started)
    }

    /// /proc/<pid>/task/<tid>/schedstat: "ran-ns waited-ns timeslices".
    static func parseSchedstat(_ line: String) -> (ran: Duration, waited: Duration)? {
        let fields = line.split(whereSeparator: \.isWhitespace)
        guard fields.count >= 2, let ran = Int64(fields[0]), let waited = Int64(fields[1]) else { return nil }
        return (.nanoseconds(ran), .nanoseconds(waited))
    }
}

/// Where the scheduling facts of a domain's QEMU come from: /proc on this host; a script in tests.
public protocol SchedulingSource: Sendable {
    /// The QEMU process of `domain` on this host; nil when there is none here (remote host, gone).
    func qemuPid(of domain: String) -> Int32?
    /// The process's threads now; nil when the process is gone.
    func schedule(of pid: Int32) -> ProcessSchedule?
}

/// The real source: libvirt's pid file (checked against the command line) and /proc.
public struct ProcScheduling: SchedulingSource {
    public init() {}

    public func qemuPid(of domain: String) -> Int32? { QEMUProcess.system.pid(of: domain) }

    /// A /proc file's text; nil when it is missing or cannot be read (a gone process's files are
    /// missing; the fence, not this, decides whether a process is really gone).
    private func text(_ path: String) -> String? {
        if case .contents(let bytes) = QEMUProcess.system.host.read(path) { return String(decoding: bytes, as: UTF8.self) }
        return nil
    }

    public func schedule(of pid: Int32) -> ProcessSchedule? {
        let at = ContinuousClock.now
        guard let leader = text("/proc/\(pid)/stat").flatMap(ProcessSchedule.parseStat)
        else { return nil }
        guard let dir = opendir("/proc/\(pid)/task") else { return nil }
        defer { closedir(dir) }
        var threads: [ProcessSchedule.Thread] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let tid = Int32(name),
                  let stat = text("/proc/\(pid)/task/\(tid)/stat").flatMap(ProcessSchedule.parseStat),
                  let sched = text("/proc/\(pid)/task/\(tid)/schedstat").flatMap(ProcessSchedule.parseSchedstat)
            else { continue } // a thread that exited while we read
            threads.append(.init(tid: tid, name: stat.name, state: stat.state, ran: sched.ran, waited: sched.waited))
        }
        return ProcessSchedule(pid: pid, started: leader.started, at: at, threads: threads)
    }
}
