import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Heartbeat rounds run at a real-time priority, as corosync's do (SCHED_RR): when other work
/// saturates the host's CPU, a prober that waits for a CPU misses its rounds, and the controller
/// learns of a hung processor late (measured on a saturated 2-core host: SIGSTOP → declared p99
/// 956 ms at normal priority, every outlier a prober round skipped because its own thread was
/// late). A prober's round is a few sends, one poll and a look at /proc, so it cannot hog a CPU;
/// the kernel also caps real-time threads (sched_rt_runtime_us). The priority is low among
/// real-time ones, under the kernel's interrupt threads (50).
enum ThreadPriority {
    static let realtime: Int32 = 10

    /// Raises the calling thread to SCHED_RR `realtime`. Without the right (not root, no
    /// CAP_SYS_NICE, or a cgroup without real-time runtime), the thread stays as it was and the
    /// reason is kept for the service to report once.
    static func raiseCurrentThreadToRealtime() {
        var parameters = sched_param()
        parameters.sched_priority = realtime
        let status = pthread_setschedparam(pthread_self(), SCHED_RR, &parameters)
        guard status != 0 else { return }
        failure.withLock { $0.why = $0.why ?? String(cString: strerror(status)) }
    }

    /// Why a prober could not be raised, the first time it is asked after that happened (so the
    /// service says it once per process).
    static func failureNotReported() -> String? {
        failure.withLock { state in
            guard let why = state.why, !state.reported else { return nil }
            state.reported = true
            return why
        }
    }
    private static let failure = Mutex<(why: String?, reported: Bool)>((nil, false))
}
