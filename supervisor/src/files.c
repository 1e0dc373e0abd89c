/* Files: open, the stat family, access, readlink — routed by the layer's route.c, answered like the
 * layer answers them (layer/README.md, "Files: the memfd design"):
 *
 *   local                the kernel continues the call, untouched
 *   remote file          ReadFile into a memfd of ours (remote mode and times), a read-only reopen of it
 *                        installed in the target as the call's result (ADDFD | SEND)
 *   remote directory     a local placeholder directory holding the listing (dirs.c): getdents, fstat
 *                        and *at calls relative to it work
 *   stat, statx          the remote StatResult written into the target's buffer
 *   access, readlink     Access / ReadLink
 *
 * Relative paths: with AT_FDCWD they stay local (as in the layer); relative to a directory descriptor
 * they are routed as that directory's path plus the name — and one of our placeholders stands for its
 * remote directory. Writes stay local; a write-intent open of a path the config sends to the target
 * (read_write, mode write) fails with EROFS, said once: the supervisor serves remote files read-only. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>

#include "config.h"
#include "hooks.h"
#include "rpc.h"
#include "sup.h"

enum { R_LOCAL, R_REMOTE, R_ANSWERED };

/* Reads and routes the path argument into c->pp. R_ANSWERED: c was answered (and freed). */
static int route(struct sup_call *c, int dirfd, uint64_t addr) {
  pid_t tid = (pid_t)c->n.pid;
  int r = sup_read_path(tid, addr, c->path, sizeof c->path);
  if (r == EPERM) {
    sup_cannot_read(tid);
    sup_reply(c, 0, EPERM);
    return R_ANSWERED;
  }
  if (r || !c->path[0]) { /* EFAULT, ENAMETOOLONG, "": the kernel says so itself */
    c->path[0] = '\0';
    return R_LOCAL;
  }
  bool placeholder = false;
  char joined[PATH_MAX];
  if (c->path[0] != '/') {
    if (dirfd == AT_FDCWD) return R_LOCAL;
    char dir[PATH_MAX];
    if (sup_fd_path(tid, dirfd, dir, sizeof dir) <= 0 || dir[0] != '/') return R_LOCAL;
    placeholder = sup_dir_remote(dir, dir, sizeof dir);
    if ((size_t)snprintf(joined, sizeof joined, "%s/%s", strcmp(dir, "/") ? dir : "", c->path) >= sizeof joined)
      return R_LOCAL;
    strcpy(c->path, joined);
  } else if (sup_dir_remote(c->path, joined, sizeof joined)) {
    placeholder = true; /* a path into one of our placeholders (a program that resolved /proc/self/fd/N) */
    strcpy(c->path, joined);
  }
  /* The program's install prefix only matters once the built-in list is reached and said "not local"
   * (it can only add local paths): most paths are decided without reading /proc/TID/exe. */
  pl_route_path_for(&(struct pl_exe_prefix){NULL, 0}, AT_FDCWD, c->path, &c->pp);
  if (c->pp.route == ROUTE_REMOTE_IF_EXISTS) {
    char exe[PATH_MAX];
    size_t exe_len = sup_exe_prefix(tid, exe, sizeof exe);
    if (exe_len) pl_route_path_for(&(struct pl_exe_prefix){exe, exe_len}, AT_FDCWD, c->path, &c->pp);
  }
  if (placeholder && c->pp.route != ROUTE_NOT_FOUND) c->pp.route = ROUTE_REMOTE; /* no local copy of it */
  if (c->pp.route == ROUTE_LOCAL) {
    pl_bypass("supervisor", c->pp.why, c->path);
    return R_LOCAL;
  }
  if (c->pp.route == ROUTE_NOT_FOUND) {
    sup_reply(c, 0, ENOENT);
    return R_ANSWERED;
  }
  return R_REMOTE;
}

/* The answer r of a remote request: 0 goes on; otherwise c is answered (the local call, or the error)
 * and false is returned. */
static bool settle(struct sup_call *c, int r) {
  int err = 0;
  switch (pl_outcome_of(r, &c->pp, &err)) {
    case OUT_HANDLED: return true;
    case OUT_LOCAL: sup_continue(c); return false;
    default: sup_reply(c, 0, err); return false;
  }
}

static int fetch_into(int fd, const char *path, pl_stat *st) {
  for (uint64_t off = 0;;) {
    pl_msg req = {.type = PL_MSG_READ_FILE};
    req.u.read_file.path = pl_str(path, strlen(path));
    req.u.read_file.offset = off;
    req.u.read_file.max = PL_MAX_FILE_CHUNK;
    struct pl_resp resp;
    int r = pl_rpc(&req, PL_MSG_FILE_DATA, &resp);
    if (r == 0) {
      if (off == 0) *st = resp.msg.u.file_data.st;
      pl_bytes d = resp.msg.u.file_data.data;
      for (uint32_t done = 0; done < d.len && r == 0;) {
        ssize_t w = pwrite(fd, d.p + done, d.len - done, (off_t)(off + done));
        if (w > 0) done += (uint32_t)w;
        else if (errno != EINTR) r = EIO;
      }
      off += d.len;
      if (r == 0 && !resp.msg.u.file_data.eof && d.len > 0) r = -2; /* more to come */
    }
    pl_resp_free(&resp);
    if (r != -2) return r;
  }
}

/* A read-only descriptor of memfd `mem` (closed here), as an open of the file it stands for would give;
 * -1 with errno when it cannot be reopened. */
static int reopen_read_only(int mem, int flags) {
  char proc[40];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", mem);
  int ro = open(proc, O_RDONLY | O_CLOEXEC | (flags & (O_NONBLOCK | O_NOATIME)));
  int err = errno;
  close(mem);
  errno = err;
  return ro;
}

static void open_remote(struct sup_call *c) {
  const char *path = c->pp.path;
  pl_stat st;
  int r = 0;
  bool dir = false;
  int mem = -1;
  if (c->flags & O_DIRECTORY) {
    r = pl_rpc_stat(path, true, &st);
    if (r == 0 && !S_ISDIR(st.mode)) r = ENOTDIR;
    dir = r == 0;
  } else {
    char name[250] = "podlink:";
    strncat(name, path, sizeof name - strlen(name) - 1);
    mem = memfd_create(name, MFD_CLOEXEC);
    r = mem < 0 ? errno : fetch_into(mem, path, &st);
    dir = r == EISDIR;
  }
  if (dir) {
    if (mem >= 0) close(mem);
    int fd = sup_dir_open(path, c->flags);
    if (fd < 0) return (void)settle(c, -fd);
    pl_debug("supervisor: %d: remote directory %s", c->n.pid, path);
    return sup_reply_fd(c, fd, c->flags & O_CLOEXEC);
  }
  if (!settle(c, r)) {
    if (mem >= 0) close(mem);
    return;
  }
  (void)fchmod(mem, st.mode & 07777);
  struct timespec times[2] = {{st.atime_sec, st.atime_nsec}, {st.mtime_sec, st.mtime_nsec}};
  (void)futimens(mem, times);
  int ro = reopen_read_only(mem, c->flags);
  if (ro < 0) return sup_reply(c, 0, errno);
  pl_debug("supervisor: %d: remote file %s", c->n.pid, path);
  sup_reply_fd(c, ro, c->flags & O_CLOEXEC);
}

/* The target's hostname (feature.hostname; libc's gethostname and uname are the layer's,
 * hooks_host.c): uname's nodename, and a read-only open of this file gets a memfd holding it. Go's
 * os.Hostname asks uname first and reads the file when the name may be truncated. */
#define HOSTNAME_FILE "/proc/sys/kernel/hostname"

void sup_on_uname(struct sup_call *c, uint64_t buf) {
  struct utsname u;
  if (!pl_cfg.hostname[0] || uname(&u) != 0) return sup_continue(c);
  memset(u.nodename, 0, sizeof u.nodename);
  memcpy(u.nodename, pl_cfg.hostname, strlen(pl_cfg.hostname));
  if (sup_write((pid_t)c->n.pid, buf, &u, sizeof u)) return sup_reply(c, 0, EFAULT);
  sup_reply(c, 0, 0);
}

static bool open_hostname(struct sup_call *c, int flags) {
  if (!pl_cfg.hostname[0] || (flags & (O_ACCMODE | O_PATH | O_DIRECTORY)) != O_RDONLY) return false;
  int mem = memfd_create("podlink:hostname", MFD_CLOEXEC);
  if (mem < 0) return false;
  size_t n = strlen(pl_cfg.hostname);
  if (write(mem, pl_cfg.hostname, n) != (ssize_t)n || write(mem, "\n", 1) != 1) {
    close(mem);
    return false;
  }
  int ro = reopen_read_only(mem, flags);
  if (ro < 0) return false;
  sup_reply_fd(c, ro, flags & O_CLOEXEC);
  return true;
}

static bool write_intent(int flags) {
  return (flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC | O_APPEND));
}

void sup_on_open(struct sup_call *c, int dirfd, uint64_t path, int flags, bool open2) {
  if (open2) { /* openat2(dirfd, path, struct open_how *, size): flags come first in open_how */
    uint64_t how_flags;
    if (c->n.data.args[3] < sizeof how_flags || sup_read((pid_t)c->n.pid, c->n.data.args[2], &how_flags, sizeof how_flags))
      return sup_continue(c);
    flags = (int)how_flags;
  }
  int r = route(c, dirfd, path);
  if (r == R_ANSWERED) return;
  if (r == R_LOCAL && strcmp(c->path, HOSTNAME_FILE) == 0 && open_hostname(c, flags)) return;
  if (r == R_LOCAL || (flags & O_PATH) || (flags & O_TMPFILE) == O_TMPFILE) return sup_continue(c);
  if (write_intent(flags)) {
    if (!c->pp.write_remote) return sup_continue(c);
    static atomic_bool told;
    if (!atomic_exchange(&told, true))
      sup_line("%s opened the remote file %s for writing: the supervisor serves remote files read-only, so such "
               "opens fail with EROFS (feature.fs read_write and mode write need the layer)",
               sup_program, c->pp.path);
    return sup_reply(c, 0, EROFS);
  }
  c->flags = flags;
  sup_defer(c, open_remote);
}

static void stat_remote(struct sup_call *c) {
  pl_stat s;
  if (!settle(c, pl_rpc_stat(c->pp.path, !(c->flags & AT_SYMLINK_NOFOLLOW), &s))) return;
  int w;
  if (c->is_statx) {
    struct statx x = {.stx_mask = STATX_BASIC_STATS, .stx_blksize = (uint32_t)s.blksize, .stx_nlink = (uint32_t)s.nlink,
                      .stx_uid = s.uid, .stx_gid = s.gid, .stx_mode = (uint16_t)s.mode, .stx_ino = s.ino,
                      .stx_size = s.size, .stx_blocks = s.blocks};
    x.stx_atime = (struct statx_timestamp){.tv_sec = s.atime_sec, .tv_nsec = s.atime_nsec};
    x.stx_mtime = (struct statx_timestamp){.tv_sec = s.mtime_sec, .tv_nsec = s.mtime_nsec};
    x.stx_ctime = (struct statx_timestamp){.tv_sec = s.ctime_sec, .tv_nsec = s.ctime_nsec};
    x.stx_rdev_major = major(s.rdev), x.stx_rdev_minor = minor(s.rdev);
    x.stx_dev_major = major(s.dev), x.stx_dev_minor = minor(s.dev);
    w = sup_write((pid_t)c->n.pid, c->out, &x, sizeof x);
  } else {
    struct stat st = {.st_dev = s.dev, .st_ino = s.ino, .st_mode = s.mode, .st_nlink = s.nlink, .st_uid = s.uid,
                      .st_gid = s.gid, .st_rdev = s.rdev, .st_size = (off_t)s.size, .st_blksize = (blksize_t)s.blksize,
                      .st_blocks = (blkcnt_t)s.blocks};
    st.st_atim = (struct timespec){s.atime_sec, s.atime_nsec};
    st.st_mtim = (struct timespec){s.mtime_sec, s.mtime_nsec};
    st.st_ctim = (struct timespec){s.ctime_sec, s.ctime_nsec};
    w = sup_write((pid_t)c->n.pid, c->out, &st, sizeof st);
  }
  sup_reply(c, 0, w ? EFAULT : 0);
}

void sup_on_stat(struct sup_call *c, int dirfd, uint64_t path, int flags, uint64_t buf, bool is_statx, unsigned mask) {
  int r = route(c, dirfd, path);
  if (r == R_ANSWERED) return;
  if (r == R_LOCAL) return sup_continue(c);
  c->flags = flags, c->out = buf, c->is_statx = is_statx, c->mask = mask;
  sup_defer(c, stat_remote);
}

static void access_remote(struct sup_call *c) {
  pl_msg req = {.type = PL_MSG_ACCESS};
  req.u.access.path = pl_str(c->pp.path, strlen(c->pp.path));
  req.u.access.mode = (uint32_t)c->flags;
  struct pl_resp resp;
  int r = pl_rpc(&req, PL_MSG_OK, &resp);
  pl_resp_free(&resp);
  if (settle(c, r)) sup_reply(c, 0, 0);
}

void sup_on_access(struct sup_call *c, int dirfd, uint64_t path, int mode) {
  int r = route(c, dirfd, path);
  if (r == R_ANSWERED) return;
  if (r == R_LOCAL) return sup_continue(c);
  c->flags = mode;
  sup_defer(c, access_remote);
}

static void readlink_remote(struct sup_call *c) {
  pl_msg req = {.type = PL_MSG_READ_LINK};
  req.u.path.path = pl_str(c->pp.path, strlen(c->pp.path));
  struct pl_resp resp;
  int r = pl_rpc(&req, PL_MSG_LINK, &resp);
  if (settle(c, r)) {
    pl_bytes t = resp.msg.u.link.target;
    size_t n = t.len < c->size ? t.len : c->size; /* truncated, no NUL: like the real one */
    int w = sup_write((pid_t)c->n.pid, c->out, t.p, n);
    sup_reply(c, (long)n, w ? EFAULT : 0);
  }
  pl_resp_free(&resp);
}

void sup_on_readlink(struct sup_call *c, int dirfd, uint64_t path, uint64_t buf, size_t size) {
  int r = route(c, dirfd, path);
  if (r == R_ANSWERED) return;
  if (r == R_LOCAL) return sup_continue(c);
  if ((ssize_t)size <= 0) return sup_reply(c, 0, EINVAL);
  c->out = buf, c->size = size;
  sup_defer(c, readlink_remote);
}
