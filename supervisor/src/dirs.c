/* Remote directories as real local directories. Opening a remote directory gives the program a
 * descriptor of a placeholder directory of ours (under a private temp dir) holding one empty entry per
 * remote name, of the same type (directory, symlink, fifo, else an empty file). getdents, fstat, fchdir
 * and the *at calls then need nothing from us, except that a path relative to a placeholder is routed
 * as the remote directory's path plus the name (files.c asks sup_dir_remote), so the entries' content,
 * stat and link targets come from the target. Each open makes a fresh placeholder (the listing at that
 * moment); all go when the supervisor exits. */
#include <ftw.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "rpc.h"
#include "sup.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char root[PATH_MAX]; /* "" until the first remote directory */
static size_t root_len;
static char **remote_of; /* placeholder N stands for remote_of[N] */
static unsigned n_dirs, cap_dirs;

/* A new placeholder number for remote, with root made on first use. Returns -1 on failure. */
static long new_placeholder(const char *remote) {
  long n = -1;
  pthread_mutex_lock(&mu);
  if (!root[0]) {
    const char *tmp = getenv("TMPDIR");
    snprintf(root, sizeof root, "%s/podlink-supervisor-XXXXXX", tmp && tmp[0] == '/' ? tmp : "/tmp");
    if (!mkdtemp(root)) root[0] = '\0';
    root_len = strlen(root);
  }
  if (root[0] && n_dirs == cap_dirs) {
    unsigned cap = cap_dirs ? cap_dirs * 2 : 64;
    char **grown = realloc(remote_of, cap * sizeof *grown);
    if (grown) remote_of = grown, cap_dirs = cap;
  }
  char *copy = strdup(remote);
  if (root[0] && n_dirs < cap_dirs && copy) {
    remote_of[n_dirs] = copy;
    n = n_dirs++;
  } else {
    free(copy);
  }
  pthread_mutex_unlock(&mu);
  return n;
}

static void make_entry(int dfd, const pl_dirent *e) {
  char name[256];
  if (e->name.len == 0 || e->name.len >= sizeof name || memchr(e->name.p, '/', e->name.len)) return;
  memcpy(name, e->name.p, e->name.len);
  name[e->name.len] = '\0';
  if (!strcmp(name, ".") || !strcmp(name, "..")) return;
  switch (e->type) {
    case DT_DIR: (void)mkdirat(dfd, name, 0700); return;
    case DT_LNK: (void)symlinkat(".", dfd, name); return; /* its target is asked of the remote */
    case DT_FIFO: (void)mkfifoat(dfd, name, 0600); return;
    default: {
      int f = openat(dfd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
      if (f >= 0) close(f);
    }
  }
}

int sup_dir_open(const char *remote, int flags) {
  pl_msg req = {.type = PL_MSG_READ_DIR};
  req.u.path.path = pl_str(remote, strlen(remote));
  struct pl_resp resp;
  int r = pl_rpc(&req, PL_MSG_DIR_ENTRIES, &resp);
  if (r != 0) {
    pl_resp_free(&resp);
    return -(r == PL_RPC_GONE ? EHOSTDOWN : r);
  }
  long n = new_placeholder(remote);
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s/%ld", root, n);
  if (n < 0 || mkdir(dir, 0700) != 0) {
    pl_resp_free(&resp);
    return -EIO;
  }
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const uint8_t *cur = resp.msg.u.dir_entries.entries.p;
  for (uint32_t i = 0; dfd >= 0 && i < resp.msg.u.dir_entries.entries.count; i++) {
    pl_dirent e;
    pl_next_dirent(&cur, &e);
    make_entry(dfd, &e);
  }
  pl_resp_free(&resp);
  if (dfd < 0) return -EIO;
  close(dfd);
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (flags & (O_NONBLOCK | O_NOATIME)));
  return fd >= 0 ? fd : -errno;
}

bool sup_dir_remote(const char *local, char *out, size_t cap) {
  if (!root_len || strncmp(local, root, root_len) != 0 || local[root_len] != '/') return false;
  char *end;
  unsigned long n = strtoul(local + root_len + 1, &end, 10);
  if (end == local + root_len + 1 || (*end && *end != '/')) return false;
  char rest[PATH_MAX];
  snprintf(rest, sizeof rest, "%s", end); /* local and out may be the same buffer */
  pthread_mutex_lock(&mu);
  bool ok = n < n_dirs;
  if (ok) ok = (size_t)snprintf(out, cap, "%s%s", strcmp(remote_of[n], "/") ? remote_of[n] : "", rest) < cap;
  pthread_mutex_unlock(&mu);
  if (ok && !out[0]) strcpy(out, "/");
  return ok;
}

static int remove_one(const char *p, const struct stat *st, int type, struct FTW *ftw) {
  (void)st, (void)type, (void)ftw;
  remove(p);
  return 0;
}

void sup_dirs_cleanup(void) {
  pthread_mutex_lock(&mu);
  if (root[0]) nftw(root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
  pthread_mutex_unlock(&mu);
}
