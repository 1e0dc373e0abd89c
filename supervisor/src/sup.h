/* The supervisor's shared declarations. One process (this one) serves the seccomp user notifications
 * of the program it started and of all that program's descendants; the layer's own objects (codec,
 * routing, config, the intproxy client, the socket helpers) are linked in unchanged. */
#ifndef PODLINK_SUP_H
#define PODLINK_SUP_H

#include "common.h"
#include "proto.h"
#include "route.h"

#include <linux/seccomp.h>
#include <stdatomic.h>

/* Not in every uapi header yet (Linux 6.6). */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

/* One notification being served. Allocated by the receiver; freed by whoever answers it. */
struct sup_call {
  struct seccomp_notif n; /* id, pid (the thread), data.nr, data.args */
  struct sup_call *next;
  void (*work)(struct sup_call *c); /* what a worker runs (sup_defer) */
  int fd;                           /* a descriptor fetched from the target for the work, or -1 */
  unsigned long ino;                /* the socket's inode when the handler looked it up */
  /* What the handler worked out for the worker. */
  int flags;
  uint64_t out; /* the call's result buffer in the target */
  size_t size;
  unsigned mask;
  bool is_statx;
  struct sockaddr_storage sa; /* the address argument, as read from the target */
  socklen_t sa_len;
  pl_addr dest;               /* sa as the intproxy names it, when remote */
  struct pl_path pp;   /* the routed path (pp.path points into it or into path) */
  char path[PATH_MAX]; /* the path argument, as read from the target (made absolute for a dirfd) */
};

/* glue.c: the layer objects' environment (its real-function table, thread-local flags). */
void sup_glue_init(void);

/* main.c */
extern int sup_listener;
extern pid_t sup_child;        /* the program we started */
extern const char *sup_program; /* its path, for messages */
void sup_line(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* "podlink: …" on stderr */

/* notify.c: answering. Every path through a handler ends in exactly one of these, which frees c (and
 * closes c->fd): nothing read from c after it — copy what work after the answer needs. */
void sup_continue(struct sup_call *c);                 /* the kernel runs the call as the program made it */
void sup_reply(struct sup_call *c, long val, int err); /* err > 0: fail with it; else return val */
void sup_reply_fd(struct sup_call *c, int fd, bool cloexec); /* fd becomes the call's result in the target */
bool sup_valid(struct sup_call *c);                    /* the target still waits for this call */
void sup_defer(struct sup_call *c, void (*work)(struct sup_call *c)); /* finish on a worker thread */
void sup_serve(void);                                  /* receiver loop (its own thread) */

/* filter.c */
struct sock_fprog;
/* Builds the filter for the config (pl_cfg); returns the program (static storage). */
const struct sock_fprog *sup_filter(void);

/* mem.c: the target's memory and descriptors. Each returns 0 or an errno. */
int sup_read(pid_t tid, uint64_t addr, void *buf, size_t n);
int sup_write(pid_t tid, uint64_t addr, const void *buf, size_t n);
int sup_read_path(pid_t tid, uint64_t addr, char *buf, size_t cap); /* NUL-terminated */
/* A descriptor of the target as our own (pidfd_getfd), or -errno. */
int sup_getfd(pid_t tid, int fd);
/* readlink of /proc/TID/fd/FD into buf (NUL-terminated); length or -1. */
ssize_t sup_fd_path(pid_t tid, int fd, char *buf, size_t cap);
/* The inode of the socket at the target's fd, or 0 when it is not a socket. */
unsigned long sup_socket_ino(pid_t tid, int fd);
/* The process (thread group) of a thread, or -1 when it is gone. */
pid_t sup_tgid(pid_t tid);
/* A descriptor number of process tgid that holds the socket with inode ino, or -1 (none, or it is gone). */
int sup_find_socket(pid_t tgid, unsigned long ino);
/* The install prefix of the thread's program (the route's built-in local list), in buf. */
size_t sup_exe_prefix(pid_t tid, char *buf, size_t cap);
/* EPERM on the target's memory: it is not dumpable. Says so once per process. */
void sup_cannot_read(pid_t tid);

/* files.c, net.c, udp.c: the handlers, run on the receiver thread; they answer or defer. */
void sup_on_open(struct sup_call *c, int dirfd, uint64_t path, int flags, bool open2);
void sup_on_stat(struct sup_call *c, int dirfd, uint64_t path, int flags, uint64_t buf, bool is_statx, unsigned mask);
void sup_on_access(struct sup_call *c, int dirfd, uint64_t path, int mode);
void sup_on_readlink(struct sup_call *c, int dirfd, uint64_t path, uint64_t buf, size_t size);
void sup_on_uname(struct sup_call *c, uint64_t buf); /* nodename: the target's hostname */
void sup_on_connect(struct sup_call *c);
void sup_on_getpeername(struct sup_call *c);
void sup_on_so_error(struct sup_call *c);
void sup_on_sendto(struct sup_call *c);
void sup_on_sendmsg(struct sup_call *c, bool mmsg);
void sup_on_recv(struct sup_call *c, bool msg);
void sup_on_listen(struct sup_call *c);
void sup_on_accept(struct sup_call *c);
void sup_on_bind(struct sup_call *c);        /* listen_ports only */
void sup_on_getsockname(struct sup_call *c); /* listen_ports only */

/* dirs.c: remote directories as local placeholder directories. */
/* Opens a placeholder listing the remote directory: an fd of ours, or -errno. */
int sup_dir_open(const char *remote, int flags);
/* If local is (under) a placeholder, writes the remote path it stands for into out and returns true. */
bool sup_dir_remote(const char *local, char *out, size_t cap);
void sup_dirs_cleanup(void);

/* net.c: what the supervisor knows about the program's sockets, by inode (an fd number can be closed
 * and reused behind our back; an inode is the socket). Guarded by sup_socks_lock. */
enum sup_sock_state { SUP_NONE, SUP_PENDING, SUP_CONNECTED, SUP_FAILED };
#define SUP_MAX_RELAYS 8
struct sup_sock {
  unsigned long ino;  /* 0: free slot */
  int proto;          /* 1 tcp, 2 udp */
  int state;          /* enum sup_sock_state */
  int err;            /* SUP_FAILED: the target's errno, reported once by SO_ERROR or connect */
  bool abort_next;    /* SO_ERROR reported it: the next connect says ECONNABORTED, as the kernel's would */
  struct sockaddr_storage peer; /* the remote, as the program gave it */
  socklen_t peer_len;
  struct sockaddr_storage local; /* where the socket really is connected (an endpoint, or our relay) */
  socklen_t local_len;
  uint32_t conn; /* a UDP relay's conn, released when the socket is gone (0: none) */
  struct {       /* unconnected UDP: one relay per destination */
    struct sockaddr_storage remote, local;
    socklen_t remote_len, local_len;
    uint32_t conn;
  } relays[SUP_MAX_RELAYS];
  int n_relays;
};
void sup_socks_lock(void);
void sup_socks_unlock(void);
/* The entry of a socket (locked by the caller), created when create is set; NULL when absent or full. */
struct sup_sock *sup_sock(unsigned long ino, bool create);
/* Forgets the entries of sockets that no longer exist, releasing their UDP relays. */
void sup_socks_gc(void);
/* Collects when the table has grown or enough relays were made (relay: one was just made). Lock free. */
void sup_socks_gc_maybe(bool relay);
/* 1 tcp, 2 udp, 0 unknown. */
int sup_sock_proto(unsigned long ino);
/* The family of a socket of ours (SO_DOMAIN). */
int sup_sock_family(int fd);

/* Reads a sockaddr argument into c->sa: 1 an inet address, 0 not ours, -1 the target cannot be read. */
int sup_read_addr(struct sup_call *c, uint64_t addr, uint64_t len);
/* Is c->sa remote (c->dest filled)? May ask the intproxy (the target's nameservers) for loopback:53. */
bool sup_remote_dest(struct sup_call *c);
/* Could c->sa be a target nameserver on loopback (deciding needs an RPC: do it on a worker)? */
bool sup_maybe_nameserver(const struct sockaddr_storage *sa);
/* The relay protocol for our copy fd of the socket towards c->dest: 1 tcp, 2 udp, 0 none. */
int sup_wanted(struct sup_call *c, int fd);

/* nbconnect.c: a non-blocking TCP connect, completed in the background (fd: our copy of the socket). */
void sup_nb_connect(struct sup_call *c, int fd, const pl_addr *remote, const struct sockaddr_storage *sa, socklen_t len);

/* relay.c: a connection the supervisor carries between two of its sockets (non-blocking connects). */
void sup_relay_add(int a, int b);

#endif
