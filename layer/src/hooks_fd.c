/* Descriptor lifetime: close, close_range, dup, dup2, dup3, fcntl(F_DUPFD*). They keep the fd table
 * right and protect the layer's own connections. An fd the layer does not track costs one table load
 * and no syscall. Nothing here logs (close paths must stay silent). */
#include <stdarg.h>
#include <sys/syscall.h>

#include "common.h"
#include "config.h"
#include "fdtable.h"
#include "file_stream.h"
#include "hooks.h"
#include "real.h"
#include "rpc.h"

/* Shared by close() and syscall(SYS_close). */
int pl_close_tracked(int fd, struct pl_fdobj *o, int (*real_close)(int)) {
  if (o == &pl_layer_mark) return 0; /* the app may not close our connection: pretend it did */
  /* A vfork child shares our memory: it must not change the table the parent will see. */
  if (getpid() != pl_pid) return real_close(fd);
  int saved = errno;
  bool took_guard = !pl_guard;
  pl_guard = 1;
  int wb = pl_fd_release(fd);
  int r = real_close(fd);
  int e = errno;
  if (took_guard) pl_guard = 0;
  if (r == 0 && wb < 0) {
    errno = EIO;
    return -1;
  }
  errno = r == 0 ? saved : e;
  return r;
}

PL_EXPORT int close(int fd) {
  pl_ensure_init();
  struct pl_fdobj *o = pl_fd_get(fd);
  if (PL_LIKELY(!o)) return pl_real.close(fd);
  return pl_close_tracked(fd, o, pl_real.close);
}

int pl_close_range(unsigned first, unsigned last, int flags, int (*real)(unsigned, unsigned, int)) {
  if (first > last) return real(first, last, flags);
  unsigned end = last < PL_FD_MAX ? last : PL_FD_MAX - 1;
  int me = -1; /* getpid(), only once a tracked fd is found */
  unsigned start = first;
  int rc = 0;
  for (unsigned fd = first; fd <= end && first < PL_FD_MAX; fd++) {
    struct pl_fdobj *o = pl_fd_get((int)fd);
    if (PL_LIKELY(!o)) continue;
    if (o == &pl_layer_mark) {
      /* close around our connection */
      if (fd > start && real(start, fd - 1, flags) != 0) rc = -1;
      start = fd + 1;
      continue;
    }
    if (flags & CLOSE_RANGE_CLOEXEC) continue; /* nothing is closed now */
    if (me < 0) me = getpid();
    if (me == pl_pid) {
      bool took_guard = !pl_guard;
      pl_guard = 1;
      (void)pl_fd_release((int)fd);
      if (took_guard) pl_guard = 0;
    }
  }
  if (start <= last && real(start, last, flags) != 0) rc = -1;
  return rc;
}

static int raw_close_range(unsigned first, unsigned last, int flags) {
  return (int)pl_real.syscall(SYS_close_range, first, last, flags);
}

PL_EXPORT int close_range(unsigned int first, unsigned int last, int flags) {
  pl_ensure_init();
  int (*real)(unsigned, unsigned, int) = pl_real.close_range ? pl_real.close_range : raw_close_range;
  if (__atomic_load_n(&pl_state, __ATOMIC_ACQUIRE) != PL_ACTIVE) return real(first, last, flags);
  return pl_close_range(first, last, flags, real);
}

/* fd is (or is about to become) a descriptor an exec would keep. If its bytes are still arriving,
 * they arrive first: an exec'd program has no layer thread filling them in (file_stream.c). */
static void exec_may_keep(int fd) {
  struct pl_fdobj *o = pl_fd_get(fd);
  if (PL_UNLIKELY(o != NULL) && o->kind == FDK_RFILE && pl_stream_running(o->stream)) (void)pl_stream_wait_all(o->stream);
}

PL_EXPORT int dup(int oldfd) {
  pl_ensure_init();
  int r = pl_real.dup(oldfd);
  if (r >= 0 && PL_UNLIKELY(pl_fd_get(oldfd) != NULL)) {
    pl_fd_copy(oldfd, r);
    exec_may_keep(r);
  }
  return r;
}

/* dup2/dup3 replace newfd: move our connection out of the way, finalise a tracked entry there. */
static void before_replace(int oldfd, int newfd) {
  struct pl_fdobj *o = pl_fd_get(newfd);
  if (PL_LIKELY(!o) || oldfd == newfd) return;
  if (o == &pl_layer_mark) {
    pl_rpc_move_fd(newfd);
    return;
  }
  if (getpid() != pl_pid) return;
  int saved = errno;
  bool took_guard = !pl_guard;
  pl_guard = 1;
  (void)pl_fd_release(newfd);
  if (took_guard) pl_guard = 0;
  errno = saved;
}

PL_EXPORT int dup2(int oldfd, int newfd) {
  pl_ensure_init();
  before_replace(oldfd, newfd);
  int r = pl_real.dup2(oldfd, newfd);
  if (r >= 0 && PL_UNLIKELY(pl_fd_get(oldfd) != NULL)) {
    pl_fd_copy(oldfd, r);
    exec_may_keep(r);
  }
  return r;
}

PL_EXPORT int dup3(int oldfd, int newfd, int flags) {
  pl_ensure_init();
  before_replace(oldfd, newfd);
  int r = pl_real.dup3(oldfd, newfd, flags);
  if (r >= 0 && PL_UNLIKELY(pl_fd_get(oldfd) != NULL)) {
    pl_fd_copy(oldfd, r);
    if (!(flags & O_CLOEXEC)) exec_may_keep(r);
  }
  return r;
}

/* Every fcntl command takes at most one argument, an int or a pointer: pass it on as a pointer-sized
 * value, as glibc's own wrapper does. */
static int fcntl_common(int (*real)(int, int, ...), int fd, int cmd, void *arg) {
  if (cmd == F_SETFD && !((intptr_t)arg & FD_CLOEXEC)) exec_may_keep(fd);
  int r = real(fd, cmd, arg);
  if ((cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) && r >= 0 && PL_UNLIKELY(pl_fd_get(fd) != NULL)) {
    pl_fd_copy(fd, r);
    if (cmd == F_DUPFD) exec_may_keep(r);
  }
  return r;
}

PL_EXPORT int fcntl(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void *arg = va_arg(ap, void *);
  va_end(ap);
  pl_ensure_init();
  return fcntl_common(pl_real.fcntl, fd, cmd, arg);
}

PL_EXPORT int fcntl64(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void *arg = va_arg(ap, void *);
  va_end(ap);
  pl_ensure_init();
  return fcntl_common(pl_real.fcntl64 ? pl_real.fcntl64 : pl_real.fcntl, fd, cmd, arg);
}
