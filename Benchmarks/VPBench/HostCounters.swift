import Foundation
#if canImport(Glibc)
import Glibc
#endif

// What the throughput bench reads from the host around a run: CPU time of its processes, conntrack.
extension ServiceBenchLab {
    static func childrenCPUSeconds() -> Double {
        var usage = rusage()
        _ = getrusage(__rusage_who_t(RUSAGE_CHILDREN.rawValue), &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// User + system seconds of the server processes (nginx masters, their workers, HAProxy).
    func serverCPUSeconds() -> Double {
        let roots = runningProcesses().map(\.processIdentifier)
        var pids = roots
        for pid in roots {
            let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
            pids += children.split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return pids.reduce(0.0) { total, pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return total }
            // Fields after "(comm)": state is field 3, utime 14, stime 15.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 13, let u = Double(fields[11]), let s = Double(fields[12]) else { return total }
            return total + (u + s) / ticks
        }
    }

    static func conntrackCount() -> Int? { sysctlInt("net/netfilter/nf_conntrack_count") }

    static func sysctlInt(_ name: String) -> Int? {
        (try? String(contentsOfFile: "/proc/sys/\(name)", encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
}
