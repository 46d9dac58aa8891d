import Foundation

/// Whether the host's guests, together, get the CPU before the host's other work. libvirt puts
/// every guest in one cgroup (`machine`); left at its default weight, all the guests together weigh
/// as much as one host process, so a host busy with anything else starves every processor at
/// once: heartbeats answered late and hot-plugged NICs taken seconds late after a failover.
/// Measured with `vp-bench failover --churn` (2 CPU burners on 2 cores, 10 min each): the
/// hot standby's own part of a failover (its hot-plugged NICs up and answering) took a median
/// 731 ms, p99 1,931 ms at the default weight, and 508 ms, p99 902 ms at this weight, with more
/// other work on the host during the second run.
public enum ProcessorCPUWeight {
    /// The weight the host set-up gives the guests: `perCore` host processes' worth per core, so
    /// that against as many busy host processes as there are cores the guests still get ~80 %.
    public static let perCore = 4

    /// Where the weight is kept, cgroup v1 (cpu.shares, one process = 1024) or v2 (cpu.weight,
    /// one process = 100), with or without systemd (machine.slice).
    public struct Group: Sendable, Equatable {
        public var path: String
        public var onePerProcess: Int
        public init(path: String, onePerProcess: Int) { self.path = path; self.onePerProcess = onePerProcess }
        public static let candidates = [
            Group(path: "/sys/fs/cgroup/cpu/machine/cpu.shares", onePerProcess: 1024),
            Group(path: "/sys/fs/cgroup/cpu/machine.slice/cpu.shares", onePerProcess: 1024),
            Group(path: "/sys/fs/cgroup/machine.slice/cpu.weight", onePerProcess: 100),
            Group(path: "/sys/fs/cgroup/machine/cpu.weight", onePerProcess: 100),
        ]
    }

    /// The weight the guests need on a host with `cores` cores.
    public static func wanted(_ group: Group, cores: Int) -> Int { group.onePerProcess * perCore * max(1, cores) }

    /// The doctor's line for a guest group of weight `weight` on a host with `cores` cores.
    public static func check(_ group: Group, weight: Int, cores: Int) -> DoctorCheck {
        let processes = Double(weight) / Double(group.onePerProcess)
        let worth = processes == processes.rounded() ? "\(Int(processes))" : String(format: "%.1f", processes)
        let wanted = wanted(group, cores: cores)
        let detail = "the guests together weigh \(worth) host processes' worth of CPU (\(group.path) = \(weight))"
        guard weight >= wanted else {
            return DoctorCheck("processor CPU weight", .warning,
                               detail + ": when the host is busy, every processor starves at once (heartbeats late, failovers slow)",
                               fix: "run: sudo scripts/bootstrap-host.sh (or: echo \(wanted) > \(group.path))")
        }
        return DoctorCheck("processor CPU weight", .ok, detail)
    }

    /// The check on this host: the first guest group that exists, or a note that none exists yet
    /// (libvirt makes it when the first guest starts).
    public static func checkLocalHost(cores: Int = ProcessInfo.processInfo.activeProcessorCount) -> DoctorCheck {
        for group in Group.candidates {
            guard let text = try? String(contentsOfFile: group.path, encoding: .utf8) else { continue }
            guard let weight = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                return DoctorCheck("processor CPU weight", .warning, "\(group.path) says \"\(text)\", not a weight")
            }
            return check(group, weight: weight, cores: cores)
        }
        return DoctorCheck("processor CPU weight", .warning, "no cgroup for libvirt's guests yet (made when the first guest starts)",
                           fix: "run: sudo scripts/bootstrap-host.sh")
    }
}
