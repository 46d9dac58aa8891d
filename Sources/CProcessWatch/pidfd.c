#define _GNU_SOURCE
#include <sys/syscall.h>
#include <unistd.h>
#include "cprocesswatch.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

int vp_pidfd_open(pid_t pid) {
    return (int)syscall(SYS_pidfd_open, pid, 0);
}
