import CProcessWatch
#if canImport(Glibc)
import Glibc
#endif

/// Whether the failover service can learn of a QEMU's death from the kernel as it happens (the
/// netlink process connector: CONFIG_PROC_EVENTS and CAP_NET_ADMIN). Without it the watch polls
/// every QEMU's /proc entry every 5 ms: deaths are still caught, at a cost to an idle daemon.
enum ProcessExitEvents {
    static func check() -> DoctorCheck {
        let fd = vp_process_exits_open()
        guard fd >= 0 else {
            let why = String(cString: strerror(errno))
            return DoctorCheck("process exit events", .warning,
                               "the kernel's process connector cannot be listened to (\(why)): vpctl serve polls each QEMU every 5 ms instead",
                               fix: "run vpctl serve as root on a kernel with CONFIG_PROC_EVENTS")
        }
        close(fd)
        return DoctorCheck("process exit events", .ok, "the kernel reports QEMU exits as they happen (netlink process connector)")
    }
}
