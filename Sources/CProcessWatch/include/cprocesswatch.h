#ifndef CPROCESSWATCH_H
#define CPROCESSWATCH_H
#include <sys/types.h>

/// pidfd_open(2): a file descriptor that becomes readable when process `pid` exits
/// (Linux 5.3+). Returns -1 with errno set on failure. (Swift cannot call the variadic syscall(2).)
int vp_pidfd_open(pid_t pid);

/// Names the calling thread (prctl PR_SET_NAME: the kernel keeps 15 bytes), as `top -H` and
/// /proc/<pid>/task/<tid>/comm show it. (prctl(2) is variadic too.) Returns 0 or -1 with errno.
int vp_set_thread_name(const char *name);

/// A socket on the kernel's process events (netlink connector, cn_proc; needs CAP_NET_ADMIN and
/// CONFIG_PROC_EVENTS) that receives only the exits of processes (thread-group leaders), as they
/// happen. Non-blocking, close-on-exec. Returns -1 with errno set when the kernel or the caller
/// cannot have it.
int vp_process_exits_open(void);

/// Reads every message waiting on `fd` (from vp_process_exits_open) and stores up to `capacity`
/// exited pids in `pids`. Sets `*overflowed` when exits were lost (the socket's buffer overran,
/// or more than `capacity` arrived): the caller must then look at every process it watches.
/// Returns the number stored, or -1 with errno set.
int vp_process_exits_read(int fd, pid_t *pids, int capacity, int *overflowed);

/// An eventfd (non-blocking, close-on-exec) a thread can poll to be woken by another.
/// Returns -1 with errno set on failure.
int vp_wakeup_open(void);

#endif
