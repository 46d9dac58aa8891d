import Foundation

/// A process's CPU time and threads from /proc/<pid>/stat (utime + stime, in clock ticks).
struct ProcessCPU: Equatable {
    /// User + system CPU time so far.
    var cpuSeconds: Double
    var threads: Int

    static func read(pid: Int32) throws -> ProcessCPU {
        let path = "/proc/\(pid)/stat"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw BenchError("cannot read \(path): is process \(pid) gone?") }
        guard let cpu = parse(stat: text, ticksPerSecond: Double(sysconf(Int32(_SC_CLK_TCK)))) else {
            throw BenchError("\(path): unexpected format: \(text.prefix(200))")
        }
        return cpu
    }

    /// The fields after the command name, which is in parentheses and may hold spaces: state is
    /// field 3 of proc(5), utime 14, stime 15, num_threads 20.
    static func parse(stat text: String, ticksPerSecond: Double) -> ProcessCPU? {
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 17, let utime = Double(fields[11]), let stime = Double(fields[12]), let threads = Int(fields[17]) else { return nil }
        return ProcessCPU(cpuSeconds: (utime + stime) / ticksPerSecond, threads: threads)
    }
}

extension ProcessCPU {
    /// Each thread's name (what `top -H` shows) and CPU time so far, by thread id.
    static func threads(pid: Int32) -> [Int32: (name: String, cpuSeconds: Double)] {
        let dir = "/proc/\(pid)/task"
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        var all: [Int32: (name: String, cpuSeconds: Double)] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] {
            guard let tid = Int32(entry), let text = try? String(contentsOfFile: "\(dir)/\(entry)/stat", encoding: .utf8),
                  let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")"),
                  let cpu = parse(stat: text, ticksPerSecond: ticks) else { continue }
            all[tid] = (String(text[text.index(after: open)..<close]), cpu.cpuSeconds)
        }
        return all
    }

    /// CPU seconds each thread name used between two `threads` readings, most first (threads
    /// that ended in between are left out; ones that started count from zero).
    static func byName(from before: [Int32: (name: String, cpuSeconds: Double)],
                       to after: [Int32: (name: String, cpuSeconds: Double)]) -> [(name: String, threads: Int, cpuSeconds: Double)] {
        var sums: [String: (threads: Int, cpuSeconds: Double)] = [:]
        for (tid, now) in after {
            let used = now.cpuSeconds - (before[tid]?.cpuSeconds ?? 0)
            sums[now.name, default: (0, 0)].threads += 1
            sums[now.name, default: (0, 0)].cpuSeconds += used
        }
        return sums.map { ($0.key, $0.value.threads, $0.value.cpuSeconds) }.sorted { $0.cpuSeconds > $1.cpuSeconds }
    }
}

extension ProcessCPU {
    /// CPU time this process used (user + system), in seconds: on a shared machine the wall time
    /// of a measure also counts the other processes' turns.
    static func ofThisProcess() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return s(usage.ru_utime) + s(usage.ru_stime)
    }
}
