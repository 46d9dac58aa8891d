/// What the QEMU process says about a guest whose heartbeats went silent, from two looks at its
/// threads: one when the silence began, one now. Pure.
public enum ProcessEvidence: Sendable, Equatable {
    /// The process is gone, or every thread has exited.
    case gone
    /// Its vCPU threads are stopped (state T: SIGSTOP, or t: a debugger): it will not answer.
    case stopped
    /// Its threads waited for a CPU for a good part of the silence: the host is overloaded, the
    /// guest is not hung.
    case starved(waited: Duration, over: Duration)
    /// It got the CPU it asked for and still did not answer: silent for reasons of its own.
    case running(waited: Duration, over: Duration)
    /// No QEMU process on this host to look at (a remote host), or nothing to compare with.
    case unknown(String)

    /// Starved when some thread waited on a run queue for at least this share of the interval.
    /// An idle guest's threads wait next to nothing; a stopped one not at all. Measured in the
    /// failover e2e tests on a loaded 2-core host: replacements silent for ~450 ms right after
    /// their move had a QEMU thread with 305–442 ms of run delay in one stretch (and no run time),
    /// while answering guests beside them waited 10–50 ms per 50 ms. So on a loaded host nearly
    /// every silent guest is starved, and the gate gives it `DeclarationGate.Settings.starvedLimit`.
    public static let starvedShare = 0.1

    /// Compares the look taken when the silence began (`before`, nil if none was taken) with the
    /// look now (`now`, nil when the process is gone).
    public static func between(_ before: ProcessSchedule?, _ now: ProcessSchedule?) -> ProcessEvidence {
        guard let now else { return before == nil ? .unknown("no QEMU process of it on this host") : .gone }
        if let before, before.started != now.started || before.pid != now.pid { return .gone }
        let live = now.threads.filter { !$0.hasExited }
        guard !live.isEmpty, now.threads.first(where: { $0.tid == now.pid }).map({ !$0.hasExited }) ?? true else { return .gone }
        // The vCPUs are what must run for the guest to answer; the leader stands in when none is named.
        let vcpus = live.filter(\.isVCPU)
        let runners = vcpus.isEmpty ? live.filter { $0.tid == now.pid } : vcpus
        if !runners.isEmpty, runners.allSatisfy(\.isStopped) { return .stopped }
        guard let before else { return .unknown("no look at its threads from when the silence began") }
        let over = now.at - before.at
        guard over > .zero else { return .unknown("no time between the two looks") }
        // The worst-served thread: the vCPU, or the main loop that moves its network packets.
        let waited = live.compactMap { t in before.threads.first { $0.tid == t.tid }.map { waitedBetween($0, t, over: over) } }.max() ?? .zero
        return waited >= over * starvedShare ? .starved(waited: waited, over: over) : .running(waited: waited, over: over)
    }

    /// How long a thread waited for a CPU between two looks. The kernel adds a wait to the run
    /// delay only when the wait ends (the thread gets a CPU), so a thread still waiting shows
    /// none of its current wait. One runnable (R) at both looks that did not run in between has
    /// waited the whole time: it cannot have slept, since going to sleep takes running. Seen in
    /// the API e2e test: a new carrier's main loop waited 1.6 s behind its neighbour's boot while
    /// its run delay stood still, and the gate read "waiting for a CPU only 0 ms in 1402 ms".
    static func waitedBetween(_ before: ProcessSchedule.Thread, _ now: ProcessSchedule.Thread, over: Duration) -> Duration {
        let accounted = now.waited - before.waited
        let stillWaiting = before.state == "R" && now.state == "R" && now.ran == before.ran
        return stillWaiting ? max(accounted, over) : accounted
    }
}
