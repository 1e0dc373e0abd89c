/* The seccomp filter the program runs under: narrow on purpose. Only system calls that carry a path or
 * an address are sent to us, and the argument checks below keep the frequent harmless forms in the
 * kernel (fstat is newfstatat/statx with AT_EMPTY_PATH; send() is sendto with no address; recv() is
 * recvfrom with no address; a write-intent open stays local unless the config can make it remote).
 * Everything else — read, write, mmap, futex, epoll, close — never leaves the kernel, which caches the
 * "allow" per system call (5.11+): those cost nothing. io_uring_setup fails with ENOSYS, so programs use
 * the system calls we see instead of a ring we cannot (libuv, tokio and liburing all fall back).
 *
 * Each rule is: load nr; if it is not this call, skip the rule's body; the body ends in a return. */
#include <linux/audit.h>
#include <linux/filter.h>
#include <stddef.h>
#include <sys/syscall.h>

#include "config.h"
#include "sup.h"

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#else
#error "the supervisor knows the system call table of x86_64 and aarch64 only"
#endif

#define MAX_INSNS 256
#define NR offsetof(struct seccomp_data, nr)
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#define ARG_HI(i) (ARG_LO(i) + 4)
#define NOTIFY SECCOMP_RET_USER_NOTIF
#define ALLOW SECCOMP_RET_ALLOW
#define ENOSYS_RET (SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA))

static struct sock_filter prog[MAX_INSNS];
static unsigned len;
static struct sock_fprog fprog;

static void put(struct sock_filter f) {
  if (len < MAX_INSNS) prog[len++] = f;
}

/* "if nr == call, run the next `body` instructions; else skip them". */
static void rule(long call, unsigned body) {
  put((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR));
  put((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)call, 0, body));
}

static void ret(uint32_t action) { put((struct sock_filter)BPF_STMT(BPF_RET | BPF_K, action)); }

static void always(long call) {
  rule(call, 1);
  ret(NOTIFY);
}

/* Notify unless any bit of `bits` is set in argument i. */
static void unless_flags(long call, int i, uint32_t bits) {
  rule(call, 4);
  put((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(i)));
  put((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, bits, 0, 1));
  ret(ALLOW);
  ret(NOTIFY);
}

/* Notify only when argument i (a pointer) is not NULL. */
static void unless_null(long call, int i) {
  rule(call, 6);
  put((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(i)));
  put((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 3));
  put((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_HI(i)));
  put((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1));
  ret(ALLOW);
  ret(NOTIFY);
}

/* getsockopt(fd, SOL_SOCKET, SO_ERROR, …) only: the outcome of a connect we completed. */
static void so_error(void) {
  rule(SYS_getsockopt, 6);
  put((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(1)));
  put((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SOL_SOCKET, 0, 3));
  put((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(2)));
  put((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SO_ERROR, 0, 1));
  ret(NOTIFY);
  ret(ALLOW);
}

static void files(void) {
  /* Writes stay local unless a read_write pattern or the write mode can send them to the target: then
   * the handler must see them, to refuse them loudly (the supervisor serves remote files read-only). */
  bool writes_matter = pl_cfg.fs_mode == FS_WRITE || pl_cfg.read_write.n > 0;
  uint32_t local_open = O_PATH | (writes_matter ? 0 : (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND));
#ifdef SYS_open
  unless_flags(SYS_open, 1, local_open);
#endif
  unless_flags(SYS_openat, 2, local_open);
#ifdef SYS_openat2
  always(SYS_openat2); /* its flags are behind a pointer */
#endif
#ifdef SYS_stat
  always(SYS_stat);
  always(SYS_lstat);
#endif
#ifdef SYS_newfstatat
  unless_flags(SYS_newfstatat, 3, AT_EMPTY_PATH);
#else
  unless_flags(SYS_fstatat, 3, AT_EMPTY_PATH);
#endif
  unless_flags(SYS_statx, 2, AT_EMPTY_PATH);
#ifdef SYS_access
  always(SYS_access);
#endif
  always(SYS_faccessat);
#ifdef SYS_faccessat2
  always(SYS_faccessat2);
#endif
  if (pl_cfg.hostname[0]) always(SYS_uname); /* the target's hostname (files.c) */
#ifdef SYS_readlink
  always(SYS_readlink);
#endif
  always(SYS_readlinkat);
}

static void network(void) {
  always(SYS_connect);
  always(SYS_getpeername);
  so_error();
  if (pl_cfg.udp || pl_cfg.dns) {
    /* Unconnected UDP: destinations to redirect, and reply sources to map back (resolvers check them). */
    unless_null(SYS_sendto, 4);
    always(SYS_sendmsg);
    always(SYS_sendmmsg);
    unless_null(SYS_recvfrom, 4);
    always(SYS_recvmsg);
  }
}

/* Incoming traffic (listen.c): the program's listening sockets, and what it accepts from them; with
 * listen_ports, its binds and getsockname too (a moved port shows the one it asked for). */
static void incoming(void) {
  always(SYS_listen);
  if (pl_cfg.n_listen_ports > 0) {
    always(SYS_bind);
    always(SYS_getsockname);
  }
#ifdef SYS_accept
  always(SYS_accept);
#endif
  always(SYS_accept4);
}

const struct sock_fprog *sup_filter(void) {
  len = 0;
  put((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)));
  put((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0));
  ret(ENOSYS_RET); /* another ABI (32-bit calls): nothing we could read — refuse rather than miss them */
#if defined(__x86_64__)
  put((struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR));
  put((struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1)); /* x32 */
  ret(ENOSYS_RET);
#endif
  rule(SYS_io_uring_setup, 1);
  ret(ENOSYS_RET);
  /* In "local" mode nothing is remote, not even the DNS files. */
  if (pl_cfg.fs_mode != FS_LOCAL) files();
  if (pl_cfg.tcp || pl_cfg.udp || pl_cfg.dns) network();
  if (pl_cfg.incoming) incoming();
  ret(ALLOW);
  fprog.len = (unsigned short)len;
  fprog.filter = prog;
  return len < MAX_INSNS ? &fprog : NULL;
}
