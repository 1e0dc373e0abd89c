/* Remote directories. opendir of a remote path fetches the whole listing (ReadDir, one round trip)
 * into our own DIR object; the dirent functions recognise it through a small registry, looked at only
 * while it is non-empty. scandir/scandir64 of a remote path run over the same listing. DIRs from the
 * real opendir/fdopendir pass through untouched. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "hooks.h"
#include "real.h"
#include "route.h"
#include "rpc.h"

/* Starts like glibc's struct __dirstream with fd = -1, so an unhooked dirent function that is handed
 * this object fails with EBADF instead of reading garbage. */
struct pl_dir {
  int fd;
  int lock;
  size_t allocation, size, offset;
  off_t filepos;
  int errcode;
  uint32_t magic;
  int owned_fd; /* fdopendir: the placeholder fd closedir closes; -1 for opendir */
  uint32_t count, pos;
  struct pl_dent {
    uint64_t ino;
    uint32_t name_off;
    uint16_t name_len;
    uint8_t type;
  } *ents;
  char *names;
  struct dirent64 cur64;
  struct dirent cur;
};
#define PL_DIR_MAGIC 0x706c6472u

#define MAX_OPEN_DIRS 256
static struct pl_dir *registry[MAX_OPEN_DIRS];
static int n_registered;
static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;

void pl_dir_atfork_prepare(void) { pthread_mutex_lock(&reg_mu); }
void pl_dir_atfork_parent(void) { pthread_mutex_unlock(&reg_mu); }
void pl_dir_atfork_child(void) { pthread_mutex_init(&reg_mu, NULL); }

/* Inlined into every DIR hook: with no remote listing open, one load and a jump to the real one. */
static inline __attribute__((always_inline)) struct pl_dir *ours(DIR *d) {
  pl_ensure_init();
  if (PL_LIKELY(__atomic_load_n(&n_registered, __ATOMIC_ACQUIRE) == 0) || !d) return NULL;
  for (int i = 0; i < MAX_OPEN_DIRS; i++)
    if (__atomic_load_n(&registry[i], __ATOMIC_ACQUIRE) == (struct pl_dir *)d) return (struct pl_dir *)d;
  return NULL;
}

static bool reg_add(struct pl_dir *d) {
  bool ok = false;
  pthread_mutex_lock(&reg_mu);
  for (int i = 0; i < MAX_OPEN_DIRS && !ok; i++)
    if (!registry[i]) {
      __atomic_store_n(&registry[i], d, __ATOMIC_RELEASE);
      __atomic_add_fetch(&n_registered, 1, __ATOMIC_ACQ_REL);
      ok = true;
    }
  pthread_mutex_unlock(&reg_mu);
  return ok;
}

static void reg_del(struct pl_dir *d) {
  pthread_mutex_lock(&reg_mu);
  for (int i = 0; i < MAX_OPEN_DIRS; i++)
    if (registry[i] == d) {
      __atomic_store_n(&registry[i], NULL, __ATOMIC_RELEASE);
      __atomic_sub_fetch(&n_registered, 1, __ATOMIC_ACQ_REL);
      break;
    }
  pthread_mutex_unlock(&reg_mu);
}

static void dir_free(struct pl_dir *d) {
  free(d->ents);
  free(d->names);
  free(d);
}

/* Fetches a listing. Returns 0 with *out set, an errno, or PL_RPC_GONE. */
static int fetch_listing(const char *path, struct pl_dir **out) {
  pl_msg req = {.type = PL_MSG_READ_DIR};
  req.u.path.path = pl_str(path, strlen(path));
  struct pl_resp resp;
  int r = pl_rpc(&req, PL_MSG_DIR_ENTRIES, &resp);
  if (r != 0) {
    pl_resp_free(&resp);
    return r;
  }
  pl_list l = resp.msg.u.dir_entries.entries;
  struct pl_dir *d = calloc(1, sizeof *d);
  if (d) {
    d->ents = calloc(l.count ? l.count : 1, sizeof *d->ents);
    d->names = malloc(l.len + 1); /* the names take less than their wire form */
  }
  if (!d || !d->ents || !d->names) {
    if (d) dir_free(d);
    pl_resp_free(&resp);
    return ENOMEM;
  }
  d->fd = -1;
  d->owned_fd = -1;
  d->magic = PL_DIR_MAGIC;
  const uint8_t *c = l.p;
  uint32_t off = 0;
  for (uint32_t i = 0; i < l.count; i++) {
    pl_dirent e;
    pl_next_dirent(&c, &e);
    uint32_t n = e.name.len < 255 ? e.name.len : 255;
    if (n == 0 || memchr(e.name.p, '/', n) || memchr(e.name.p, '\0', n)) continue; /* not a file name */
    memcpy(d->names + off, e.name.p, n);
    d->names[off + n] = '\0';
    d->ents[d->count++] = (struct pl_dent){e.ino, off, (uint16_t)n, e.type};
    off += n + 1;
  }
  pl_resp_free(&resp);
  *out = d;
  return 0;
}

/* Routes and fetches. 1: *out is a listing. 0: bypass. -1: failed, errno set. Guard held. */
static int dir_decide(const char *hook, const char *path, struct pl_dir **out) {
  struct pl_path pp;
  int routed = pl_route_hook(hook, AT_FDCWD, path, &pp);
  if (routed <= 0) return routed;
  int err = 0;
  switch (pl_outcome_of(fetch_listing(pp.path, out), &pp, &err)) {
    case OUT_HANDLED: pl_debug("%s: remote %s (%u entries)", hook, pp.path, (*out)->count); return 1;
    case OUT_LOCAL: pl_bypass(hook, pp.why, path); return 0;
    default: errno = err; return -1;
  }
}

PL_PATH_HOOK(DIR *, opendir, (const char *path), (path), path, pl_real.opendir(path)) {
  if (!pl_enter()) return pl_real.opendir(path);
  int saved = errno;
  struct pl_dir *d = NULL;
  int r = dir_decide("opendir", path, &d);
  if (r == 1 && !reg_add(d)) {
    dir_free(d);
    errno = EMFILE;
    r = -1;
  }
  pl_leave();
  if (r == 0) {
    errno = saved;
    return pl_real.opendir(path);
  }
  if (r < 0) return NULL;
  errno = saved;
  return (DIR *)d;
}

static bool next_entry(struct pl_dir *d, struct dirent64 *out) {
  if (d->pos >= d->count) return false;
  const struct pl_dent *e = &d->ents[d->pos++];
  memset(out, 0, offsetof(struct dirent64, d_name));
  out->d_ino = e->ino;
  out->d_off = d->pos;
  out->d_reclen = sizeof *out;
  out->d_type = e->type;
  memcpy(out->d_name, d->names + e->name_off, e->name_len + 1u);
  return true;
}

_Static_assert(sizeof(struct dirent) == sizeof(struct dirent64), "dirent and dirent64 share a layout here");

PL_EXPORT struct dirent64 *readdir64(DIR *dir) {
  struct pl_dir *d = ours(dir);
  if (PL_LIKELY(!d)) return pl_real.readdir64(dir);
  return next_entry(d, &d->cur64) ? &d->cur64 : NULL; /* end: NULL, errno untouched */
}

PL_EXPORT struct dirent *readdir(DIR *dir) {
  struct pl_dir *d = ours(dir);
  if (PL_LIKELY(!d)) return pl_real.readdir(dir);
  return next_entry(d, (struct dirent64 *)&d->cur) ? &d->cur : NULL;
}

PL_EXPORT int readdir64_r(DIR *dir, struct dirent64 *entry, struct dirent64 **result) {
  struct pl_dir *d = ours(dir);
  if (PL_LIKELY(!d)) return pl_real.readdir64_r(dir, entry, result);
  *result = next_entry(d, entry) ? entry : NULL;
  return 0;
}

PL_EXPORT int readdir_r(DIR *dir, struct dirent *entry, struct dirent **result) {
  struct pl_dir *d = ours(dir);
  if (PL_LIKELY(!d)) return pl_real.readdir_r(dir, entry, result);
  *result = next_entry(d, (struct dirent64 *)entry) ? entry : NULL;
  return 0;
}

/* fdopendir of a placeholder fd from open() of a remote directory: list it like opendir. The DIR then
 * owns the fd, as a real one would. */
PL_EXPORT DIR *fdopendir(int fd) {
  pl_ensure_init();
  struct pl_fdobj *o = pl_fd_get(fd);
  if (PL_LIKELY(!o) || o == &pl_layer_mark || o->kind != FDK_RDIR || !pl_enter()) return pl_real.fdopendir(fd);
  int saved = errno;
  struct pl_dir *d = NULL;
  int r = fetch_listing(o->path, &d);
  if (r == 0 && !reg_add(d)) {
    dir_free(d);
    r = EMFILE;
  }
  pl_leave();
  if (r != 0) {
    errno = pl_rpc_gone(r) ? EIO : r;
    return NULL;
  }
  d->owned_fd = fd;
  errno = saved;
  return (DIR *)d;
}

PL_EXPORT int closedir(DIR *dir) {
  struct pl_dir *d = ours(dir);
  if (PL_LIKELY(!d)) return pl_real.closedir(dir);
  reg_del(d);
  int fd = d->owned_fd;
  dir_free(d);
  return fd >= 0 ? close(fd) : 0; /* our close hook: releases the placeholder's table entry */
}

/* A listing from opendir has no descriptor behind it; one from fdopendir has its placeholder. */
PL_EXPORT int dirfd(DIR *dir) {
  struct pl_dir *d = ours(dir);
  if (PL_LIKELY(!d)) return pl_real.dirfd(dir);
  if (d->owned_fd >= 0) return d->owned_fd;
  errno = ENOTSUP;
  return -1;
}

PL_EXPORT void rewinddir(DIR *dir) {
  struct pl_dir *d = ours(dir);
  if (PL_LIKELY(!d)) return pl_real.rewinddir(dir);
  d->pos = 0;
}

PL_EXPORT long telldir(DIR *dir) {
  struct pl_dir *d = ours(dir);
  if (PL_LIKELY(!d)) return pl_real.telldir(dir);
  return d->pos;
}

PL_EXPORT void seekdir(DIR *dir, long loc) {
  struct pl_dir *d = ours(dir);
  if (PL_LIKELY(!d)) return pl_real.seekdir(dir, loc);
  d->pos = loc < 0 ? 0 : loc > (long)d->count ? d->count : (uint32_t)loc;
}

/* scandir over a remote listing: malloc'd entries the caller frees one by one, like glibc's. The
 * caller's filter and compar run without our guard, so their own file calls are hooked normally. */
static int scan(struct pl_dir *d, struct dirent64 ***namelist, int (*filter)(const struct dirent64 *),
                int (*compar)(const struct dirent64 **, const struct dirent64 **)) {
  struct dirent64 **list = NULL;
  size_t n = 0, cap = 0;
  struct dirent64 tmp;
  while (next_entry(d, &tmp)) {
    size_t len = strlen(tmp.d_name);
    size_t size = (offsetof(struct dirent64, d_name) + len + 1 + 7) & ~(size_t)7;
    tmp.d_reclen = (unsigned short)size;
    pl_leave();
    int keep = !filter || filter(&tmp);
    pl_guard = 1;
    if (!keep) continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 16;
      struct dirent64 **grown = realloc(list, cap * sizeof *grown);
      if (!grown) goto oom;
      list = grown;
    }
    struct dirent64 *e = malloc(size);
    if (!e) goto oom;
    memcpy(e, &tmp, size);
    list[n++] = e;
  }
  if (compar && n > 1) {
    pl_leave();
    qsort(list, n, sizeof *list, (int (*)(const void *, const void *))compar);
    pl_guard = 1;
  }
  *namelist = list;
  return (int)n;
oom:
  while (n) free(list[--n]);
  free(list);
  errno = ENOMEM;
  return -1;
}

#define SCANDIR_BODY(name, path, namelist, filter, compar, TYPE, REAL)        \
  if (!pl_enter()) return REAL;                                               \
  int saved = errno;                                                          \
  struct pl_dir *d = NULL;                                                    \
  int r = dir_decide(#name, path, &d);                                        \
  int n = -1;                                                                 \
  if (r == 1) {                                                               \
    n = scan(d, (struct dirent64 ***)(namelist), (int (*)(const struct dirent64 *))(filter), \
             (int (*)(const struct dirent64 **, const struct dirent64 **))(compar)); \
    dir_free(d);                                                              \
  }                                                                           \
  pl_leave();                                                                 \
  if (r == 0) {                                                               \
    errno = saved;                                                            \
    return REAL;                                                              \
  }                                                                           \
  if (n >= 0) errno = saved;                                                  \
  return n;

PL_EXPORT int scandir(const char *path, struct dirent ***namelist, int (*filter)(const struct dirent *),
                      int (*compar)(const struct dirent **, const struct dirent **)) {
  SCANDIR_BODY(scandir, path, namelist, filter, compar, dirent, pl_real.scandir(path, namelist, filter, compar))
}

PL_EXPORT int scandir64(const char *path, struct dirent64 ***namelist, int (*filter)(const struct dirent64 *),
                        int (*compar)(const struct dirent64 **, const struct dirent64 **)) {
  SCANDIR_BODY(scandir64, path, namelist, filter, compar, dirent64,
               pl_real.scandir64(path, namelist, filter, compar))
}
