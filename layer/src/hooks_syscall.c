/* syscall(2): node (libuv) calls statx, close and io_uring_setup through it, never through the libc
 * wrappers. Everything else goes straight to the real syscall() with all six arguments: a switch and
 * nothing more, because the JVM calls syscall(SYS_gettid) thousands of times. */
#include <stdarg.h>
#include <sys/syscall.h>

#include "common.h"
#include "fdtable.h"
#include "hooks.h"
#include "real.h"
#include "route.h"

static int raw_close(int fd) { return (int)pl_real.syscall(SYS_close, fd); }

static int raw_close_range(unsigned first, unsigned last, int flags) {
  return (int)pl_real.syscall(SYS_close_range, first, last, flags);
}

PL_EXPORT long syscall(long number, ...) {
  va_list ap;
  va_start(ap, number);
  long a1 = va_arg(ap, long), a2 = va_arg(ap, long), a3 = va_arg(ap, long);
  long a4 = va_arg(ap, long), a5 = va_arg(ap, long), a6 = va_arg(ap, long);
  va_end(ap);
  if (PL_UNLIKELY(__atomic_load_n(&pl_state, __ATOMIC_ACQUIRE) != PL_ACTIVE)) {
    /* Before set-up (jemalloc opens files through syscall() inside its init lock): straight through. */
    pl_real_ensure();
    return pl_real.syscall(number, a1, a2, a3, a4, a5, a6);
  }
  switch (number) {
    case SYS_close: {
      struct pl_fdobj *o = pl_fd_get((int)a1);
      if (PL_UNLIKELY(o != NULL)) return pl_close_tracked((int)a1, o, raw_close);
      break;
    }
    case SYS_close_range:
      return pl_close_range((unsigned)a1, (unsigned)a2, (int)a3, raw_close_range);
    case SYS_statx: {
      if (pl_route_fast_local((const char *)a2) || !pl_enter()) break;
      int ret;
      bool handled = pl_statx_remote((int)a1, (const char *)a2, (int)a3, (unsigned)a4, (struct statx *)a5, &ret);
      pl_leave();
      if (handled) return ret;
      break;
    }
    case SYS_io_uring_setup:
      /* libuv then uses its thread pool, whose file calls we see. */
      errno = ENOSYS;
      return -1;
    default: break;
  }
  return pl_real.syscall(number, a1, a2, a3, a4, a5, a6);
}
