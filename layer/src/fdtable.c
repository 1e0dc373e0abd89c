/* Descriptor table. Writers are the slow paths (connect to a remote, remote open for writing, close
 * or dup of a tracked fd); the hot path only loads one pointer. */
#include "fdtable.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "real.h"

#include "file_stream.h"

struct pl_fdobj *pl_fds[PL_FD_MAX];
struct pl_fdobj pl_layer_mark;
/* One past the highest fd that ever held an object: whole-table scans stop there. */
int pl_fd_end;
static pthread_mutex_t relay_mu = PTHREAD_MUTEX_INITIALIZER;

void pl_fd_lock(void) { pthread_mutex_lock(&relay_mu); }
void pl_fd_unlock(void) { pthread_mutex_unlock(&relay_mu); }
void pl_fd_atfork_child(void) { pthread_mutex_init(&relay_mu, NULL); }

void pl_fd_mark_layer(int fd, bool on) {
  if ((unsigned)fd < PL_FD_MAX) __atomic_store_n(&pl_fds[fd], on ? &pl_layer_mark : NULL, __ATOMIC_RELEASE);
}

/* The layer keeps its own descriptors just under this number, out of the way of the low numbers apps
 * expect and reuse (dup2 onto 3, 4, ...); 0: leave them where the kernel put them. */
static int high_top;

/* Fixed once, by the constructor, from the soft RLIMIT_NOFILE of that moment, and the kernel's table
 * grown to hold it right away: the process has one thread then. Growing the table later, once the
 * program has threads, waits for an RCU grace period (measured: 10 ms for a curl lookup's first link). */
void pl_fd_high_init(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < 1024) return;
  high_top = rl.rlim_cur > PL_FD_MAX ? PL_FD_MAX : (int)rl.rlim_cur;
  int fd = pl_real.open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  int top = pl_real.fcntl(fd, F_DUPFD_CLOEXEC, high_top - 1);
  if (top >= 0) pl_real.close(top);
  pl_real.close(fd);
}

int pl_fd_take_high(int fd, int below) {
  if (fd < 0) return fd;
  if (high_top > below) {
    /* fails (EINVAL) when the program lowered its limit since: the fd then stays where it is */
    int hi = pl_real.fcntl(fd, F_DUPFD_CLOEXEC, high_top - below);
    if (hi >= 0) {
      pl_real.close(fd);
      fd = hi;
    }
  }
  pl_fd_mark_layer(fd, true);
  return fd;
}

struct pl_fdobj *pl_fd_new(int kind) {
  struct pl_fdobj *o = calloc(1, sizeof *o);
  if (o) {
    o->refs = 1;
    o->kind = (uint8_t)kind;
  }
  return o;
}

/* Runs from close paths only: silent. */
static int finalise(int fd, struct pl_fdobj *o, bool fd_is_still_ours) {
  int r = 0;
  int quiet = pl_quiet;
  pl_quiet = 1;
  if (o->kind == FDK_WFILE && fd_is_still_ours) r = pl_file_writeback(fd, o);
  if (o->kind == FDK_TCP || o->kind == FDK_UDP) pl_socket_release(o);
  if (o->kind == FDK_RFILE) pl_stream_unref(o->stream);
  if (o->kind == FDK_LISTEN && o->announced) pl_listen_release(o);
  free(o->path);
  free(o);
  pl_quiet = quiet;
  return r;
}

static int unref(int fd, struct pl_fdobj *o, bool fd_is_still_ours) {
  if (__atomic_sub_fetch(&o->refs, 1, __ATOMIC_ACQ_REL) != 0) return 0;
  return finalise(fd, o, fd_is_still_ours);
}

void pl_fd_install(int fd, struct pl_fdobj *obj) {
  if ((unsigned)fd >= PL_FD_MAX) {
    if (obj) unref(fd, obj, false);
    return;
  }
  int end = __atomic_load_n(&pl_fd_end, __ATOMIC_RELAXED);
  while (obj && fd >= end && !__atomic_compare_exchange_n(&pl_fd_end, &end, fd + 1, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
  }
  struct pl_fdobj *old = __atomic_exchange_n(&pl_fds[fd], obj, __ATOMIC_ACQ_REL);
  /* A stale entry: its fd was closed where no hook saw it and the number was reused. */
  if (old && old != &pl_layer_mark) unref(fd, old, false);
}

int pl_fd_release(int fd) {
  if ((unsigned)fd >= PL_FD_MAX) return 0;
  struct pl_fdobj *old = __atomic_load_n(&pl_fds[fd], __ATOMIC_ACQUIRE);
  if (!old || old == &pl_layer_mark) return 0;
  old = __atomic_exchange_n(&pl_fds[fd], NULL, __ATOMIC_ACQ_REL);
  if (!old || old == &pl_layer_mark) return 0;
  return unref(fd, old, true);
}

void pl_fd_forget(int fd) {
  if ((unsigned)fd >= PL_FD_MAX) return;
  struct pl_fdobj *old = __atomic_exchange_n(&pl_fds[fd], NULL, __ATOMIC_ACQ_REL);
  if (old && old != &pl_layer_mark) unref(fd, old, false);
}

void pl_fd_copy(int oldfd, int newfd) {
  struct pl_fdobj *o = pl_fd_get(oldfd);
  if (!o || o == &pl_layer_mark || oldfd == newfd) return;
  __atomic_add_fetch(&o->refs, 1, __ATOMIC_ACQ_REL);
  pl_fd_install(newfd, o);
}
