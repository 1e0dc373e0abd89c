/* The re-entry guard and the start-up.
 *
 * Start-up (the set-up) runs exactly once, from our constructor, and nowhere else: a hook reached
 * before it has ended passes straight through (common.h, "the start-up rule"). The library is linked
 * with -z initfirst, so the loader runs this constructor before every other library's constructor
 * (their calls are then hooked as usual); when another object also asks to be first, theirs wins and
 * the calls made before ours ran simply stay local.
 *
 * Running first has a price: libc's own initialisation has not run yet, so `environ` is still NULL
 * (config.c reads /proc/self/environ instead, and cannot setenv). Everything here may allocate: the
 * guard is held throughout, so an allocator that initialises itself inside our first malloc and calls
 * readlink/open/syscall lands in hooks that pass through to the real functions, which are resolved
 * before anything else for exactly that reason. */
#include <pthread.h>

#include "common.h"
#include "config.h"
#include "fdtable.h"
#include "file_stream.h"
#include "hooks.h"
#include "real.h"
#include "route.h"
#include "rpc.h"
#include "socket.h"

__thread int pl_guard __attribute__((tls_model("initial-exec")));
__thread int pl_quiet __attribute__((tls_model("initial-exec")));
int pl_state = PL_UNINIT;

/* fork holds every lock of the layer, so the child never inherits one held by a thread it lacks. */
static void atfork_prepare(void) {
  pl_stream_settle_all(); /* before any lock: the fetching threads need the RPC pool */
  pl_pending_atfork_prepare();
  pl_rpc_atfork_prepare();
  pl_fd_lock();
  pl_dir_atfork_prepare();
  pl_regex_atfork_prepare();
}

static void atfork_parent(void) {
  pl_regex_atfork_parent();
  pl_dir_atfork_parent();
  pl_fd_unlock();
  pl_rpc_atfork_parent();
  pl_pending_atfork_parent();
}

static void atfork_child(void) {
  pl_pending_atfork_child();
  pl_regex_atfork_child();
  pl_dir_atfork_child();
  pl_fd_atfork_child();
  pl_rpc_atfork_child();
  pl_pid = getpid();
}

__attribute__((constructor)) static void pl_constructor(void) {
  if (pl_state != PL_UNINIT) return;
  int saved = errno;
  pl_guard = 1;
  pl_real_resolve();
  bool active = pl_config_load();
  if (active) {
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
    pl_fd_high_init();
  }
  pl_guard = 0;
  errno = saved;
  pl_route_fast_init(active);
  __atomic_store_n(&pl_state, active ? PL_ACTIVE : PL_PASSIVE, __ATOMIC_RELEASE);
  pl_debug("layer %s in pid %d", active ? "active" : "passive", (int)pl_pid);
}
