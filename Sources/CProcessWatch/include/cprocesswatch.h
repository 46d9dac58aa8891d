#ifndef CPROCESSWATCH_H
#define CPROCESSWATCH_H
#include <sys/types.h>

/// pidfd_open(2): a file descriptor that becomes readable when process `pid` exits
/// (Linux 5.3+). Returns -1 with errno set on failure. (Swift cannot call the variadic syscall(2).)
int vp_pidfd_open(pid_t pid);

#endif
