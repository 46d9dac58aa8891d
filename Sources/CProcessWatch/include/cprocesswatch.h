#ifndef CPROCESSWATCH_H
#define CPROCESSWATCH_H
#include <sys/types.h>

/// pidfd_open(2): a file descriptor that becomes readable when process `pid` exits
/// (Linux 5.3+). Returns -1 with errno set on failure. (Swift cannot call the variadic syscall(2).)
int vp_pidfd_open(pid_t pid);

/// Names the calling thread (prctl PR_SET_NAME: the kernel keeps 15 bytes), as `top -H` and
/// /proc/<pid>/task/<tid>/comm show it. (prctl(2) is variadic too.) Returns 0 or -1 with errno.
int vp_set_thread_name(const char *name);

#endif
