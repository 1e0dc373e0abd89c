/* Path metadata: the stat family (all path forms, old __xstat ABI included), statx, the access family
 * and readlink. fstat and __fxstat stay real: a remote file the app opened is a memfd whose fstat is
 * already right (size, mode, times). */
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "common.h"
#include "hooks.h"
#include "real.h"
#include "route.h"
#include "rpc.h"

_Static_assert(sizeof(struct stat) == sizeof(struct stat64), "stat and stat64 share a layout on this ABI");


static void fill_stat(struct stat *st, const pl_stat *s) {
  memset(st, 0, sizeof *st);
  st->st_dev = (dev_t)s->dev;
  st->st_ino = (ino_t)s->ino;
  st->st_mode = s->mode;
  st->st_nlink = (nlink_t)s->nlink;
  st->st_uid = s->uid;
  st->st_gid = s->gid;
  st->st_rdev = (dev_t)s->rdev;
  st->st_size = (off_t)s->size;
  st->st_blksize = (blksize_t)s->blksize;
  st->st_blocks = (blkcnt_t)s->blocks;
  st->st_atim = (struct timespec){s->atime_sec, s->atime_nsec};
  st->st_mtim = (struct timespec){s->mtime_sec, s->mtime_nsec};
  st->st_ctim = (struct timespec){s->ctime_sec, s->ctime_nsec};
}

static void fill_statx(struct statx *x, const pl_stat *s) {
  memset(x, 0, sizeof *x);
  x->stx_mask = STATX_BASIC_STATS; /* exactly the fields filled below (no btime, no mount id) */
  x->stx_blksize = (uint32_t)s->blksize;
  x->stx_nlink = (uint32_t)s->nlink;
  x->stx_uid = s->uid;
  x->stx_gid = s->gid;
  x->stx_mode = (uint16_t)s->mode;
  x->stx_ino = s->ino;
  x->stx_size = s->size;
  x->stx_blocks = s->blocks;
  x->stx_atime = (struct statx_timestamp){.tv_sec = s->atime_sec, .tv_nsec = s->atime_nsec};
  x->stx_mtime = (struct statx_timestamp){.tv_sec = s->mtime_sec, .tv_nsec = s->mtime_nsec};
  x->stx_ctime = (struct statx_timestamp){.tv_sec = s->ctime_sec, .tv_nsec = s->ctime_nsec};
  x->stx_rdev_major = major((dev_t)s->rdev);
  x->stx_rdev_minor = minor((dev_t)s->rdev);
  x->stx_dev_major = major((dev_t)s->dev);
  x->stx_dev_minor = minor((dev_t)s->dev);
}

/* 1: handled, *out filled. 0: bypass (call the real function). -1: failed, errno set. */
static int stat_decide(const char *hook, int dirfd, const char *path, bool follow, pl_stat *out) {
  struct pl_path pp;
  int routed = pl_route_hook(hook, dirfd, path, &pp);
  if (routed <= 0) return routed;
  int r = pl_rpc_stat(pp.path, follow, out);
  int err = 0;
  switch (pl_outcome_of(r, &pp, &err)) {
    case OUT_HANDLED: pl_debug("%s: remote %s", hook, pp.path); return 1;
    case OUT_LOCAL: pl_bypass(hook, pp.why, path); return 0;
    default: pl_debug("%s: remote %s failed: errno %d", hook, pp.path, err); errno = err; return -1;
  }
}

/* Hook bodies differ only in how the real function is called; REAL is that call expression. A decision
 * of 0 is local (REAL), < 0 failed with errno set, > 0 answered remotely: ON_REMOTE fills the result. */
#define DECIDED_BODY(DECISION, REAL, ON_REMOTE) \
  if (!pl_enter()) return REAL;                 \
  int saved = errno;                            \
  int d = (DECISION);                           \
  pl_leave();                                   \
  if (d == 0) {                                 \
    errno = saved;                              \
    return REAL;                                \
  }                                             \
  if (d < 0) return -1;                         \
  ON_REMOTE;                                    \
  errno = saved;                                \
  return 0;

#define STAT_BODY(name, dirfd, path, follow, buf, REAL) \
  pl_stat s;                                            \
  DECIDED_BODY(stat_decide(#name, dirfd, path, follow, &s), REAL, fill_stat((struct stat *)(buf), &s))

PL_PATH_HOOK(int, stat, (const char *p, struct stat *b), (p, b), p, pl_real.stat(p, b)) {
  STAT_BODY(stat, AT_FDCWD, p, true, b, pl_real.stat(p, b))
}
PL_PATH_HOOK(int, lstat, (const char *p, struct stat *b), (p, b), p, pl_real.lstat(p, b)) {
  STAT_BODY(lstat, AT_FDCWD, p, false, b, pl_real.lstat(p, b))
}
PL_PATH_HOOK(int, stat64, (const char *p, struct stat64 *b), (p, b), p, pl_real.stat64(p, b)) {
  STAT_BODY(stat64, AT_FDCWD, p, true, b, pl_real.stat64(p, b))
}
PL_PATH_HOOK(int, lstat64, (const char *p, struct stat64 *b), (p, b), p, pl_real.lstat64(p, b)) {
  STAT_BODY(lstat64, AT_FDCWD, p, false, b, pl_real.lstat64(p, b))
}
PL_PATH_HOOK(int, __xstat, (int v, const char *p, struct stat *b), (v, p, b), p, pl_real.__xstat(v, p, b)) {
  STAT_BODY(__xstat, AT_FDCWD, p, true, b, pl_real.__xstat(v, p, b))
}
PL_PATH_HOOK(int, __xstat64, (int v, const char *p, struct stat64 *b), (v, p, b), p, pl_real.__xstat64(v, p, b)) {
  STAT_BODY(__xstat64, AT_FDCWD, p, true, b, pl_real.__xstat64(v, p, b))
}
PL_PATH_HOOK(int, __lxstat, (int v, const char *p, struct stat *b), (v, p, b), p, pl_real.__lxstat(v, p, b)) {
  STAT_BODY(__lxstat, AT_FDCWD, p, false, b, pl_real.__lxstat(v, p, b))
}
PL_PATH_HOOK(int, __lxstat64, (int v, const char *p, struct stat64 *b), (v, p, b), p, pl_real.__lxstat64(v, p, b)) {
  STAT_BODY(__lxstat64, AT_FDCWD, p, false, b, pl_real.__lxstat64(v, p, b))
}

/* fstatat(fd, "", buf, AT_EMPTY_PATH) is an fstat: real. A relative path is local (route). */
#define FSTATAT_BODY(name, fd, p, b, fl, REAL)                    \
  if (p && !*p && ((fl) & AT_EMPTY_PATH)) return REAL;            \
  STAT_BODY(name, fd, p, !((fl) & AT_SYMLINK_NOFOLLOW), b, REAL)

PL_PATH_HOOK(int, fstatat, (int fd, const char *p, struct stat *b, int fl), (fd, p, b, fl), p, pl_real.fstatat(fd, p, b, fl)) {
  FSTATAT_BODY(fstatat, fd, p, b, fl, pl_real.fstatat(fd, p, b, fl))
}
PL_PATH_HOOK(int, fstatat64, (int fd, const char *p, struct stat64 *b, int fl), (fd, p, b, fl), p, pl_real.fstatat64(fd, p, b, fl)) {
  FSTATAT_BODY(fstatat64, fd, p, b, fl, pl_real.fstatat64(fd, p, b, fl))
}
PL_PATH_HOOK(int, __fxstatat, (int v, int fd, const char *p, struct stat *b, int fl), (v, fd, p, b, fl), p,
             pl_real.__fxstatat(v, fd, p, b, fl)) {
  FSTATAT_BODY(__fxstatat, fd, p, b, fl, pl_real.__fxstatat(v, fd, p, b, fl))
}
PL_PATH_HOOK(int, __fxstatat64, (int v, int fd, const char *p, struct stat64 *b, int fl), (v, fd, p, b, fl), p,
             pl_real.__fxstatat64(v, fd, p, b, fl)) {
  FSTATAT_BODY(__fxstatat64, fd, p, b, fl, pl_real.__fxstatat64(v, fd, p, b, fl))
}

bool pl_statx_remote(int dirfd, const char *path, int flags, unsigned mask, struct statx *buf, int *ret) {
  (void)mask; /* we always fill the basic stats and say so in stx_mask */
  if (!path || (!*path && (flags & AT_EMPTY_PATH))) return false;
  int saved = errno;
  pl_stat s;
  int d = stat_decide("statx", dirfd, path, !(flags & AT_SYMLINK_NOFOLLOW), &s);
  if (d == 0) {
    errno = saved;
    return false;
  }
  if (d < 0) {
    *ret = -1;
    return true;
  }
  fill_statx(buf, &s);
  errno = saved;
  *ret = 0;
  return true;
}

PL_PATH_HOOK(int, statx, (int fd, const char *p, int fl, unsigned int mask, struct statx *b), (fd, p, fl, mask, b), p,
             pl_real.statx ? pl_real.statx(fd, p, fl, mask, b) : (errno = ENOSYS, -1)) {
  pl_real_ensure();
  if (PL_UNLIKELY(!pl_real.statx)) {
    errno = ENOSYS;
    return -1;
  }
  if (!pl_enter()) return pl_real.statx(fd, p, fl, mask, b);
  int ret;
  bool handled = pl_statx_remote(fd, p, fl, mask, b, &ret);
  pl_leave();
  return handled ? ret : pl_real.statx(fd, p, fl, mask, b);
}

/* ---- access family ---------------------------------------------------------------------------- */

static int access_decide(const char *hook, int dirfd, const char *path, int mode) {
  struct pl_path pp;
  int routed = pl_route_hook(hook, dirfd, path, &pp);
  if (routed <= 0) return routed;
  pl_msg req = {.type = PL_MSG_ACCESS};
  req.u.access.path = pl_str(pp.path, strlen(pp.path));
  req.u.access.mode = (uint32_t)mode;
  struct pl_resp resp;
  int r = pl_rpc(&req, PL_MSG_OK, &resp);
  pl_resp_free(&resp);
  int err = 0;
  switch (pl_outcome_of(r, &pp, &err)) {
    case OUT_HANDLED: pl_debug("%s: remote %s", hook, pp.path); return 1;
    case OUT_LOCAL: pl_bypass(hook, pp.why, path); return 0;
    default: errno = err; return -1;
  }
}

#define ACCESS_BODY(name, dirfd, path, mode, REAL) DECIDED_BODY(access_decide(#name, dirfd, path, mode), REAL, (void)0)

PL_PATH_HOOK(int, access, (const char *p, int m), (p, m), p, pl_real.access(p, m)) {
  ACCESS_BODY(access, AT_FDCWD, p, m, pl_real.access(p, m))
}
PL_PATH_HOOK(int, euidaccess, (const char *p, int m), (p, m), p, pl_real.euidaccess(p, m)) {
  ACCESS_BODY(euidaccess, AT_FDCWD, p, m, pl_real.euidaccess(p, m))
}
PL_PATH_HOOK(int, eaccess, (const char *p, int m), (p, m), p, pl_real.eaccess(p, m)) {
  ACCESS_BODY(eaccess, AT_FDCWD, p, m, pl_real.eaccess(p, m))
}
PL_PATH_HOOK(int, faccessat, (int fd, const char *p, int m, int fl), (fd, p, m, fl), p, pl_real.faccessat(fd, p, m, fl)) {
  ACCESS_BODY(faccessat, fd, p, m, pl_real.faccessat(fd, p, m, fl))
}

/* ---- readlink --------------------------------------------------------------------------------- */

/* Like the real one: at most bufsiz bytes, no NUL added, the count returned. */
static ssize_t readlink_decide(const char *hook, int dirfd, const char *path, char *buf, size_t bufsiz, bool *bypass) {
  struct pl_path pp;
  int routed = pl_route_hook(hook, dirfd, path, &pp);
  *bypass = routed == 0;
  if (routed <= 0) return routed;
  pl_msg req = {.type = PL_MSG_READ_LINK};
  req.u.path.path = pl_str(pp.path, strlen(pp.path));
  struct pl_resp resp;
  int r = pl_rpc(&req, PL_MSG_LINK, &resp);
  ssize_t n = 0;
  if (r == 0) {
    n = resp.msg.u.link.target.len < bufsiz ? resp.msg.u.link.target.len : (ssize_t)bufsiz;
    memcpy(buf, resp.msg.u.link.target.p, (size_t)n);
  }
  pl_resp_free(&resp);
  int err = 0;
  switch (pl_outcome_of(r, &pp, &err)) {
    case OUT_HANDLED: pl_debug("%s: remote %s", hook, pp.path); return n;
    case OUT_LOCAL: pl_bypass(hook, pp.why, path); *bypass = true; return 0;
    default: errno = err; return -1;
  }
}

#define READLINK_BODY(name, dirfd, path, buf, size, REAL)                 \
  if (!pl_enter()) return REAL;                                           \
  int saved = errno;                                                      \
  bool bypass;                                                            \
  ssize_t got = readlink_decide(#name, dirfd, path, buf, size, &bypass);  \
  pl_leave();                                                             \
  if (bypass) {                                                           \
    errno = saved;                                                        \
    return REAL;                                                          \
  }                                                                       \
  if (got >= 0) errno = saved;                                            \
  return got;

PL_PATH_HOOK(ssize_t, readlink, (const char *restrict p, char *restrict b, size_t n), (p, b, n), p, pl_real.readlink(p, b, n)) {
  READLINK_BODY(readlink, AT_FDCWD, p, b, n, pl_real.readlink(p, b, n))
}
PL_PATH_HOOK(ssize_t, readlinkat, (int fd, const char *restrict p, char *restrict b, size_t n), (fd, p, b, n), p,
             pl_real.readlinkat(fd, p, b, n)) {
  READLINK_BODY(readlinkat, fd, p, b, n, pl_real.readlinkat(fd, p, b, n))
}
