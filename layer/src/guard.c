/* The re-entry guard and the once-only start-up.
 *
 * pl_init runs from our constructor, or earlier from the first hook called by another library's
 * constructor (those can run before ours). pthread_once makes concurrent first calls wait for one
 * initialisation. Inside it the guard is held, so libc functions we call (readlink, regcomp, ...)
 * that land in our hooks go straight to the real ones; the real table is resolved before anything
 * else for exactly that reason. */
#include <pthread.h>

#include "common.h"
#include "config.h"
#include "fdtable.h"
#include "hooks.h"
#include "real.h"
#include "rpc.h"

__thread int pl_guard __attribute__((tls_model("initial-exec")));
__thread int pl_quiet __attribute__((tls_model("initial-exec")));
int pl_state = PL_UNINIT;

static pthread_once_t once = PTHREAD_ONCE_INIT;

/* fork holds every lock of the layer, so the child never inherits one held by a thread it lacks. */
static void atfork_prepare(void) {
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
}

static void atfork_child(void) {
  pl_regex_atfork_child();
  pl_dir_atfork_child();
  pl_fd_atfork_child();
  pl_rpc_atfork_child();
  pl_pid = getpid();
}

static void init_once(void) {
  int saved = errno;
  /* Held from the start: if resolving calls into a hook (dlsym → malloc → an allocator that opens a
   * file), that hook passes through instead of re-entering pthread_once on this thread. */
  pl_guard = 1;
  pl_real_resolve();
  bool active = pl_config_load();
  if (active) pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
  pl_guard = 0;
  errno = saved;
  __atomic_store_n(&pl_state, active ? PL_ACTIVE : PL_PASSIVE, __ATOMIC_RELEASE);
  pl_debug("layer %s in pid %d", active ? "active" : "passive", (int)pl_pid);
}

void pl_init(void) { pthread_once(&once, init_once); }

__attribute__((constructor)) static void pl_constructor(void) {
  if (!pl_guard) pl_init();
}
