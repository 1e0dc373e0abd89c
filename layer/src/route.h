/* Local/remote decision for a path (route.c). */
#ifndef PODLINK_ROUTE_H
#define PODLINK_ROUTE_H

#include "common.h"

#include <limits.h>

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

/* True for the built-in always-local list alone (exposed for tests and the README). */
bool pl_builtin_local(const char *path, enum pl_bypass *why) PL_HIDDEN;

#endif
