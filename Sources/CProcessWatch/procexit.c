#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <stddef.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include "cprocesswatch.h"

/// Where a message's proc_event starts: after the netlink header and the connector header.
#define EVENT_OFFSET (NLMSG_HDRLEN + offsetof(struct cn_msg, data))

int vp_process_exits_open(void) {
    int fd = socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR);
    if (fd < 0) return -1;
    // nl_pid 0: the kernel picks a free port, so several watchers can live in one process.
    struct sockaddr_nl address = { .nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC, .nl_pid = 0 };
    // Let only exits of a thread-group leader (a process, not one of its threads) wake the reader:
    // a busy host forks and exits hundreds of times a second.
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, EVENT_OFFSET + offsetof(struct proc_event, what)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, htonl(PROC_EVENT_EXIT), 0, 5),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, EVENT_OFFSET + offsetof(struct proc_event, event_data.exit.process_pid)),
        BPF_STMT(BPF_MISC | BPF_TAX, 0),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, EVENT_OFFSET + offsetof(struct proc_event, event_data.exit.process_tgid)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_X, 0, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
        BPF_STMT(BPF_RET | BPF_K, 0),
    };
    struct sock_fprog filter = { .len = sizeof code / sizeof code[0], .filter = code };
    struct __attribute__((aligned(NLMSG_ALIGNTO))) {
        struct nlmsghdr header;
        struct __attribute__((packed)) { struct cn_msg message; enum proc_cn_mcast_op op; } body;
    } listen;
    memset(&listen, 0, sizeof listen);
    listen.header.nlmsg_len = sizeof listen;
    listen.header.nlmsg_type = NLMSG_DONE;
    listen.body.message.id.idx = CN_IDX_PROC;
    listen.body.message.id.val = CN_VAL_PROC;
    listen.body.message.len = sizeof(enum proc_cn_mcast_op);
    listen.body.op = PROC_CN_MCAST_LISTEN;
    if (bind(fd, (struct sockaddr *)&address, sizeof address) < 0
        || setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &filter, sizeof filter) < 0
        || send(fd, &listen, sizeof listen, 0) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int vp_process_exits_read(int fd, pid_t *pids, int capacity, int *overflowed) {
    char buffer[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
    int count = 0;
    *overflowed = 0;
    for (;;) {
        ssize_t n = recv(fd, buffer, sizeof buffer, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return count;
            // The socket's buffer overflowed: some exits were dropped before we read them.
            if (errno == ENOBUFS) { *overflowed = 1; continue; }
            return -1;
        }
        int left = (int)n;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buffer; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
            if (h->nlmsg_len < EVENT_OFFSET + sizeof(struct proc_event)) continue;
            struct cn_msg *message = NLMSG_DATA(h);
            if (message->id.idx != CN_IDX_PROC || message->id.val != CN_VAL_PROC) continue;
            struct proc_event *event = (struct proc_event *)message->data;
            if (event->what != PROC_EVENT_EXIT || event->event_data.exit.process_pid != event->event_data.exit.process_tgid) continue;
            if (count < capacity) pids[count++] = event->event_data.exit.process_tgid;
            else *overflowed = 1;
        }
    }
}

int vp_wakeup_open(void) {
    return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}
