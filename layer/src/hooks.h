/* Logic shared between hook files (so syscall() can reuse the close and statx paths). */
#ifndef PODLINK_HOOKS_H
#define PODLINK_HOOKS_H

#include "common.h"
#include "fdtable.h"
#include "route.h"

struct statx;

int pl_close_tracked(int fd, struct pl_fdobj *o, int (*real_close)(int)) PL_HIDDEN;
int pl_close_range(unsigned first, unsigned last, int flags, int (*real)(unsigned, unsigned, int)) PL_HIDDEN;

/* The directory registry's lock, held across fork like the others (guard.c). */
void pl_dir_atfork_prepare(void) PL_HIDDEN;
void pl_dir_atfork_parent(void) PL_HIDDEN;
void pl_dir_atfork_child(void) PL_HIDDEN;

/* statx for a path: returns true when handled (result in *ret, errno set on failure); false to bypass.
 * The caller holds the guard. */
bool pl_statx_remote(int dirfd, const char *path, int flags, unsigned mask, struct statx *buf, int *ret) PL_HIDDEN;

/* Outcome of a remote file request for a routed path. */
enum pl_outcome { OUT_HANDLED, OUT_LOCAL, OUT_ERROR };
static inline enum pl_outcome pl_outcome_of(int r, struct pl_path *pp, int *err) {
  if (r == 0) return OUT_HANDLED;
  if (r == ENOENT && pp->route == ROUTE_REMOTE_IF_EXISTS) {
    pp->why = BYPASS_REMOTE_ENOENT;
    return OUT_LOCAL;
  }
  *err = (r == -1 || r == EHOSTDOWN) ? EIO : r;
  return OUT_ERROR;
}

#endif
