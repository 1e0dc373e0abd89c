/* Local/remote decision for a path (route.c). */
#ifndef PODLINK_ROUTE_H
#define PODLINK_ROUTE_H

#include "common.h"

#include <limits.h>

#include "config.h"

enum pl_route {
  ROUTE_LOCAL,            /* call the real function */
  ROUTE_REMOTE,           /* the target is authoritative: its ENOENT is the answer */
  ROUTE_REMOTE_IF_EXISTS, /* ask the target; on ENOENT fall back to the local call */
  ROUTE_NOT_FOUND,        /* answer ENOENT without asking anyone */
};

struct pl_path {
  const char *path; /* what to send to the target: the caller's string, or buf when normalised */
  enum pl_route route;
  enum pl_bypass why; /* when route == ROUTE_LOCAL */
  bool write_remote;  /* a write-intent open of this path goes to the target (read_write / mode write) */
  char buf[PATH_MAX];
};

/* Decides for an absolute path, or a path relative to dirfd (always local). No allocation and no
 * syscall unless user regexes are configured. */
void pl_route_path(int dirfd, const char *path, struct pl_path *out) PL_HIDDEN;

/* The install prefix of the program a path is routed for (the built-in local list includes it). */
struct pl_exe_prefix {
  const char *path;
  size_t len; /* 0: none */
};
/* pl_route_path for another process's program (the supervisor routes for every process it serves). */
void pl_route_path_for(const struct pl_exe_prefix *exe, int dirfd, const char *path, struct pl_path *out) PL_HIDDEN;

/* pl_route_path for a hook that asks the target: 1 = remote (pp filled), 0 = local (the bypass is
 * logged; call the real function), -1 = answered ENOENT without asking (errno set). */
int pl_route_hook(const char *hook, int dirfd, const char *path, struct pl_path *pp) PL_HIDDEN;

/* The built-in local list: /proc /sys /dev /run /tmp /var/tmp /usr /lib /lib32 /lib64 /libx32 /bin /sbin
 * /boot /snap /nix /opt /etc. Checked by its first letter (a switch), then the bytes. */
/* A byte loop, not memcmp: it stops at the path's NUL and never reads past a short path. */
static inline __attribute__((always_inline)) bool pl_lit_under(const char *path, const char *lit, size_t n) {
#pragma GCC unroll 8
  for (size_t i = 0; i < n; i++)
    if (path[i] != lit[i]) return false;
  return path[n] == '\0' || path[n] == '/';
}

static inline __attribute__((always_inline)) bool pl_builtin_dir(const char *path) {
#define IS(lit) pl_lit_under(path, lit, sizeof lit - 1)
  switch (path[1]) {
    case 'b': return IS("/bin") || IS("/boot");
    case 'd': return IS("/dev");
    case 'e': return IS("/etc");
    case 'l': return IS("/lib") || IS("/lib64") || IS("/lib32") || IS("/libx32");
    case 'n': return IS("/nix");
    case 'o': return IS("/opt");
    case 'p': return IS("/proc");
    case 'r': return IS("/run");
    case 's': return IS("/sys") || IS("/sbin") || IS("/snap");
    case 't': return IS("/tmp");
    case 'u': return IS("/usr");
    case 'v': return IS("/var/tmp");
    default: return false;
  }
#undef IS
}

bool pl_dns_file_exact(const char *path) PL_HIDDEN;
/* /etc/resolv.conf, /etc/hosts, /etc/hostname: remote when remote DNS is on (resolvers parse them). */
static inline __attribute__((always_inline)) bool pl_dns_file(const char *path) {
  /* "/etc/r..." or "/etc/h..." before any strcmp */
  if (!pl_cfg.dns || path[1] != 'e' || path[2] != 't' || path[3] != 'c' || path[4] != '/' ||
      (path[5] != 'r' && path[5] != 'h'))
    return false;
  return pl_dns_file_exact(path);
}

/* Under a built-in local directory and surely not a DNS file, looking at /etc once. /etc/r… and
 * /etc/h… with remote DNS on are left to the caller's slow path (pl_route_path), which compares them
 * by name: no call here, so a hook's fast part needs no stack frame. */
static inline __attribute__((always_inline)) bool pl_builtin_dir_not_dns(const char *path) {
  if (path[1] != 'e') return pl_builtin_dir(path);
  if (!pl_lit_under(path, "/etc", 4)) return false;
  return path[4] != '/' || (path[5] != 'r' && path[5] != 'h') || !pl_cfg.dns;
}

/* What the fast check may decide, set once by the set-up (pl_route_fast_init) before the layer turns
 * active: nothing (passive, not set up yet, or the debug log is on: bypasses are logged), every
 * absolute path (fs mode local), or the built-in local directories (no user regex to consult). */
enum pl_route_fast { FAST_NONE, FAST_BUILTIN, FAST_ALL };
extern uint8_t pl_route_fast PL_HIDDEN;
void pl_route_fast_init(bool active) PL_HIDDEN;

/*
 * The common local case, decided before a hook sets anything up (no guard, no errno save, no
 * pl_path): true when the real function can be called right away — the set-up has ended (so the real
 * table is resolved) and either we are already inside one of the layer's own calls, or the path is
 * relative, or the fs mode is local, or (with no user regex) the path is under a built-in local
 * directory and is not a DNS file. Anything else goes the slow way through pl_route_path, which
 * decides the same. A few loads and a short byte compare: the whole hook stays within the local-path
 * budget of 50 instructions (bench/layer-overhead.ts).
 */
static inline __attribute__((always_inline)) bool pl_route_fast_local(const char *path) {
  uint8_t fast = __atomic_load_n(&pl_route_fast, __ATOMIC_ACQUIRE);
  if (PL_UNLIKELY(fast == FAST_NONE) || !path) return false;
  if (pl_guard || path[0] != '/' || fast == FAST_ALL) return true;
  return pl_builtin_dir_not_dns(path);
}

/*
 * A path hook in two parts: the exported NAME takes the common local case with nothing set up and
 * jumps straight to the real function (REAL); everything else goes to NAME_slow, which the body
 * after the macro defines. Kept apart so that the fast part needs no stack frame.
 */
#define PL_PATH_HOOK(ret, name, params, args, path, REAL)                  \
  static __attribute__((noinline)) ret name##_slow params;                 \
  PL_EXPORT ret name params {                                              \
    if (PL_LIKELY(pl_route_fast_local(path))) return REAL;                 \
    return name##_slow args;                                               \
  }                                                                        \
  static __attribute__((noinline)) ret name##_slow params

/* True for the built-in always-local list alone (exposed for tests and the README). */
bool pl_builtin_local(const char *path, enum pl_bypass *why) PL_HIDDEN;

#endif
