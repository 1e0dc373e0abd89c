/* Shared by every file of the layer: system headers, visibility macros, the start-up state and the
 * thread-local re-entry guard. Hooks follow one shape:
 *
 *     if (!pl_enter()) return pl_real.NAME(args);   // passive, nested, or set-up not finished
 *     ... decide: handled | bypass(reason) | error ...
 *     pl_leave();
 *
 * Nested calls (our own code calling libc, or libc calling itself) see the guard set and go straight
 * to the real function.
 *
 * THE START-UP RULE: nothing a hook can reach before the layer's set-up has ended (guard.c, run from
 * our constructor) — nor from inside another library's initialisation — may allocate, take a lock that
 * is not the layer's own, or call dlsym. Such a hook only makes sure the real-symbol table is resolved
 * (elfsym.c: pure memory reads) and passes straight through. Hooks NEVER start the set-up themselves:
 * an allocator that calls readlink from inside its init lock (jemalloc) would deadlock on our malloc. */
#ifndef PODLINK_COMMON_H
#define PODLINK_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#ifdef _FILE_OFFSET_BITS
#error "the layer must be built without _FILE_OFFSET_BITS: it defines both open and open64"
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <spawn.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define PL_EXPORT __attribute__((visibility("default")))
#define PL_HIDDEN __attribute__((visibility("hidden")))
#define PL_LIKELY(x) __builtin_expect(!!(x), 1)
#define PL_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Lifecycle of the layer in this process. */
enum pl_state { PL_UNINIT = 0, PL_PASSIVE = 1, PL_ACTIVE = 2 };
extern int pl_state PL_HIDDEN;

/* Thread-local re-entry flag (guard.c). initial-exec: a plain %fs-relative load, no __tls_get_addr. */
extern __thread int pl_guard PL_HIDDEN __attribute__((tls_model("initial-exec")));

/* The real-symbol table (real.c): resolved by the constructor, or by the first hook that runs before
 * it. Allocation-free, lock-free, idempotent. */
void pl_real_resolve(void) PL_HIDDEN;
extern int pl_real_ready PL_HIDDEN;
static inline void pl_real_ensure(void) {
  if (PL_UNLIKELY(!__atomic_load_n(&pl_real_ready, __ATOMIC_ACQUIRE))) pl_real_resolve();
}

/* True when the hook should run its own logic (and the guard is now held); false to pass through.
 * Before set-up has ended (or in a passive layer) it only resolves the real table: see the rule above. */
static inline bool pl_enter(void) {
  if (PL_UNLIKELY(__atomic_load_n(&pl_state, __ATOMIC_ACQUIRE) != PL_ACTIVE)) {
    pl_real_ensure();
    return false;
  }
  if (pl_guard) return false;
  pl_guard = 1;
  return true;
}

static inline void pl_leave(void) { pl_guard = 0; }

/* For hooks that look at the fd table before deciding anything (the table is empty until set-up has
 * ended): make sure the real function they pass through to is known. */
static inline void pl_ensure_init(void) { pl_real_ensure(); }

/* Why a hook left a call to the real function. Logged at debug only. */
enum pl_bypass {
  BYPASS_RELATIVE_PATH,
  BYPASS_FS_MODE_LOCAL,
  BYPASS_LOCAL_REGEX,
  BYPASS_BUILTIN_LOCAL,
  BYPASS_LOCAL_PREFIX,
  BYPASS_EXE_PREFIX,
  BYPASS_LOCAL_SUFFIX,
  BYPASS_LOCALWITHOVERRIDES,
  BYPASS_REMOTE_ENOENT,
  BYPASS_REMOTE_IS_DIR,
  BYPASS_WRITE_STAYS_LOCAL,
  BYPASS_O_PATH,
  BYPASS_NOT_INET,
  BYPASS_LOOPBACK,
  BYPASS_UNSPECIFIED_ADDR,
  BYPASS_SOCKET_TYPE,
  BYPASS_FEATURE_OFF,
  BYPASS_NUMERIC_HOST,
  BYPASS_LOCALHOST,
  BYPASS_COUNT
};
const char *pl_bypass_name(enum pl_bypass b) PL_HIDDEN;

/* log.c: "podlink: ..." on stderr through the real write, only with PODLINK_DEBUG=1. Supports %s %d
 * %u %ld %lu %x %c %%. Never allocates. Never called from close paths. */
extern bool pl_debug_on PL_HIDDEN;
void pl_log_impl(const char *fmt, ...) PL_HIDDEN __attribute__((format(printf, 1, 2)));
/* Set while a close path runs (close, close_range, dup2 over an fd, fclose): nothing logs there. */
extern __thread int pl_quiet PL_HIDDEN __attribute__((tls_model("initial-exec")));
#define pl_debug(...)                                                    \
  do {                                                                   \
    if (PL_UNLIKELY(pl_debug_on) && !pl_quiet) pl_log_impl(__VA_ARGS__); \
  } while (0)
#define pl_bypass(hook, reason, detail) \
  pl_debug("%s: bypass %s (%s)", hook, pl_bypass_name(reason), (detail) ? (detail) : "")

#endif
