/* Opening files: open/openat (+64, fortified __*_2), creat, fopen, and fclose for write-back.
 *
 * A remote file becomes a real descriptor: its content is fetched with ReadFile into a memfd, which
 * gets the remote mode and times. read, pread, lseek, fstat, mmap, copy_file_range, stdio and epoll
 * then work on it as on any file. A read-only open hands back an O_RDONLY reopen of the memfd, so
 * writes fail with EBADF as they would. A large file opened close-on-exec is handed back after its
 * first chunk, while the rest arrives (file_stream.c; reads wait for their bytes in hooks_read.c).
 * A write-intent open of a path the config lets us write goes to a memfd pre-filled with the remote
 * content; the last close writes it back with WriteFile. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common.h"
#include "config.h"
#include "fdtable.h"
#include "file_fetch.h"
#include "file_stream.h"
#include "hooks.h"
#include "real.h"
#include "route.h"
#include "rpc.h"

#define OPEN_BYPASS (-2)

static int new_memfd(const char *path, int flags) {
  char name[250] = "podlink:";
  strncat(name, path, sizeof name - strlen(name) - 1);
  return memfd_create(name, (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0);
}

/* Remote stat, to learn whether a file exists before an open that does not read it. */
static int remote_exists(const char *path, pl_stat *st) { return pl_rpc_stat(path, true, st); }

/* After the remote answered r for the memfd fd: 0 to go on, else fd is closed and the open ends with
 * OPEN_BYPASS (do the local call) or -1 with errno. */
static int decline(int fd, int r, struct pl_path *pp) {
  int err = 0;
  enum pl_outcome out = pl_outcome_of(r, pp, &err);
  if (out == OUT_HANDLED) return 0;
  pl_real.close(fd);
  if (out == OUT_LOCAL) return OPEN_BYPASS;
  errno = err;
  return -1;
}

static int open_for_write(struct pl_path *pp, int flags, mode_t mode) {
  int fd = new_memfd(pp->path, flags);
  if (fd < 0) return -1;
  pl_stat st = {.mode = S_IFREG | (mode & 07777)};
  int r;
  if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL)) {
    r = remote_exists(pp->path, &st);
    if (r == 0) r = EEXIST;
  } else if (flags & O_TRUNC) {
    r = (flags & O_CREAT) ? 0 : remote_exists(pp->path, &st); /* nothing to read, existence matters */
  } else {
    r = pl_fetch_whole(fd, pp->path, &st);
  }
  if (r == ENOENT && (flags & O_CREAT)) {
    r = 0;
    st.mode = S_IFREG | (mode & 07777);
  }
  int declined = decline(fd, r, pp);
  if (declined != 0) return declined;
  if (flags & O_TRUNC) (void)!ftruncate(fd, 0);
  if (flags & O_APPEND) pl_real.fcntl(fd, F_SETFL, O_APPEND);
  struct pl_fdobj *o = pl_fd_new(FDK_WFILE);
  if (!o || !(o->path = strdup(pp->path))) {
    free(o);
    pl_real.close(fd);
    errno = ENOMEM;
    return -1;
  }
  o->mode = st.mode & 07777;
  pl_fd_install(fd, o);
  return fd;
}

/* A remote directory opened read-only: an empty memfd that remembers the path, so fdopendir (Java's
 * Files.list and newDirectoryStream: open + fdopendir) can list it. Reads and getdents on it see an
 * empty file, not the directory. */
static int open_dir_placeholder(int fd, struct pl_path *pp) {
  struct pl_fdobj *o = pl_fd_new(FDK_RDIR);
  if (!o || !(o->path = strdup(pp->path))) {
    free(o);
    pl_real.close(fd);
    errno = ENOMEM;
    return -1;
  }
  pl_fd_install(fd, o);
  return fd;
}

/* The fd object of a descriptor whose bytes are still arriving; the stream's reference is its. */
static int install_stream(int fd, struct pl_stream *s) {
  struct pl_fdobj *o = pl_fd_new(FDK_RFILE);
  if (!o) {
    pl_stream_unref(s);
    pl_real.close(fd);
    errno = ENOMEM;
    return -1;
  }
  o->stream = s;
  pl_fd_install(fd, o);
  return fd;
}

static int open_for_read(struct pl_path *pp, int flags) {
  int fd = new_memfd(pp->path, flags);
  if (fd < 0) return -1;
  pl_stat st;
  struct pl_stream *stream = NULL;
  int r;
  if (flags & O_DIRECTORY) {
    r = remote_exists(pp->path, &st);
    if (r == 0 && !S_ISDIR(st.mode)) r = ENOTDIR;
    if (r == 0) return open_dir_placeholder(fd, pp);
  } else {
    r = pl_fetch_for_read(fd, pp->path, flags, &st, &stream);
  }
  if (r == EISDIR) return open_dir_placeholder(fd, pp);
  int declined = decline(fd, r, pp);
  if (declined != 0) return declined;
  (void)fchmod(fd, st.mode & 07777);
  struct timespec times[2] = {{st.atime_sec, st.atime_nsec}, {st.mtime_sec, st.mtime_nsec}};
  (void)futimens(fd, times);
  /* Hand out a read-only description of the same memfd. */
  char proc[32] = "/proc/self/fd/";
  int n = fd, len = (int)strlen(proc);
  char digits[12];
  int k = 0;
  do digits[k++] = (char)('0' + n % 10);
  while ((n /= 10) && k < 11);
  while (k) proc[len++] = digits[--k];
  proc[len] = '\0';
  int ro = pl_real.open(proc, O_RDONLY | (flags & (O_CLOEXEC | O_NONBLOCK | O_NOATIME)));
  /* Keep the number the app would have got (the lowest free one, which the memfd took). */
  if (ro >= 0 && pl_real.dup3(ro, fd, flags & O_CLOEXEC) == fd) {
    pl_real.close(ro);
  } else if (ro >= 0) {
    pl_real.close(fd);
    fd = ro;
  } else {
    pl_real.lseek(fd, 0, SEEK_SET);
  }
  return stream ? install_stream(fd, stream) : fd;
}

/* The decision for every open form. Returns an fd, -1 with errno, or OPEN_BYPASS. Guard held. */
static int open_decide(const char *hook, int dirfd, const char *path, int flags, mode_t mode) {
  struct pl_path pp;
  pl_route_path(dirfd, path, &pp);
  int fd;
  if (pp.route == ROUTE_LOCAL) {
    fd = OPEN_BYPASS;
  } else if (pp.route == ROUTE_NOT_FOUND) {
    errno = ENOENT;
    return -1;
  } else if (flags & O_PATH) {
    pp.why = BYPASS_O_PATH;
    fd = OPEN_BYPASS;
  } else if ((flags & O_TMPFILE) == O_TMPFILE) {
    pp.why = BYPASS_WRITE_STAYS_LOCAL; /* an unnamed file: nothing to write back to */
    fd = OPEN_BYPASS;
  } else if ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC | O_APPEND))) {
    if (pp.write_remote) {
      fd = open_for_write(&pp, flags, mode);
    } else {
      pp.why = BYPASS_WRITE_STAYS_LOCAL;
      fd = OPEN_BYPASS;
    }
  } else {
    fd = open_for_read(&pp, flags);
  }
  if (fd == OPEN_BYPASS) pl_bypass(hook, pp.why, path);
  else if (fd >= 0) pl_debug("%s: remote %s -> fd %d", hook, pp.path, fd);
  else pl_debug("%s: remote %s failed: errno %d", hook, pp.path, errno);
  return fd;
}

#define OPEN_BODY(name, dirfd, path, flags, mode, REAL)            \
  if (!pl_enter()) return REAL;                                    \
  int saved = errno;                                               \
  int fd = open_decide(#name, dirfd, path, flags, mode);           \
  pl_leave();                                                      \
  if (fd == OPEN_BYPASS) {                                         \
    errno = saved;                                                 \
    return REAL;                                                   \
  }                                                                \
  if (fd >= 0) errno = saved;                                      \
  return fd;

/*
 * open and openat are variadic: the mode is there only when the flags ask for one. On the ABIs the
 * layer is built for (x86-64 and aarch64 Linux) a variadic argument travels in the same register as
 * a fixed one would, so the entry points are defined, under the libc names, with the mode as a plain
 * third (fourth) parameter: no va_list to set up on the way to the common local case. The mode is
 * used only when the flags say the caller passed one; otherwise it is whatever the register held,
 * and the real open ignores it as it would.
 */
#if !defined(__x86_64__) && !defined(__aarch64__)
#error "open's entry points read the variadic mode as a fixed parameter: check the ABI before building here"
#endif
#define OPEN_NEEDS_MODE(flags) (((flags) & O_CREAT) || ((flags) & O_TMPFILE) == O_TMPFILE)
#define OPEN_VARIADIC(name)                                                                       \
  static __attribute__((noinline)) int name##_slow(const char *path, int flags, mode_t mode) {    \
    OPEN_BODY(name, AT_FDCWD, path, flags, mode, pl_real.name(path, flags, mode))                 \
  }                                                                                               \
  PL_EXPORT int name##_entry(const char *path, int flags, mode_t mode) __asm__(#name);            \
  PL_EXPORT int name##_entry(const char *path, int flags, mode_t mode) {                          \
    if (!OPEN_NEEDS_MODE(flags)) mode = 0;                                                        \
    if (PL_LIKELY(pl_route_fast_local(path))) return pl_real.name(path, flags, mode);             \
    return name##_slow(path, flags, mode);                                                        \
  }
#define OPENAT_VARIADIC(name)                                                                         \
  static __attribute__((noinline)) int name##_slow(int dirfd, const char *path, int flags, mode_t mode) { \
    OPEN_BODY(name, dirfd, path, flags, mode, pl_real.name(dirfd, path, flags, mode))                 \
  }                                                                                                   \
  PL_EXPORT int name##_entry(int dirfd, const char *path, int flags, mode_t mode) __asm__(#name);      \
  PL_EXPORT int name##_entry(int dirfd, const char *path, int flags, mode_t mode) {                   \
    if (!OPEN_NEEDS_MODE(flags)) mode = 0;                                                            \
    if (PL_LIKELY(pl_route_fast_local(path))) return pl_real.name(dirfd, path, flags, mode);          \
    return name##_slow(dirfd, path, flags, mode);                                                     \
  }

OPEN_VARIADIC(open)
OPEN_VARIADIC(open64)
OPENAT_VARIADIC(openat)
OPENAT_VARIADIC(openat64)

PL_PATH_HOOK(int, __open_2, (const char *p, int fl), (p, fl), p, pl_real.__open_2(p, fl)) {
  OPEN_BODY(__open_2, AT_FDCWD, p, fl, 0, pl_real.__open_2(p, fl))
}
PL_PATH_HOOK(int, __open64_2, (const char *p, int fl), (p, fl), p, pl_real.__open64_2(p, fl)) {
  OPEN_BODY(__open64_2, AT_FDCWD, p, fl, 0, pl_real.__open64_2(p, fl))
}
PL_PATH_HOOK(int, __openat_2, (int d, const char *p, int fl), (d, p, fl), p, pl_real.__openat_2(d, p, fl)) {
  OPEN_BODY(__openat_2, d, p, fl, 0, pl_real.__openat_2(d, p, fl))
}
PL_PATH_HOOK(int, __openat64_2, (int d, const char *p, int fl), (d, p, fl), p, pl_real.__openat64_2(d, p, fl)) {
  OPEN_BODY(__openat64_2, d, p, fl, 0, pl_real.__openat64_2(d, p, fl))
}
PL_PATH_HOOK(int, creat, (const char *p, mode_t m), (p, m), p, pl_real.creat(p, m)) {
  OPEN_BODY(creat, AT_FDCWD, p, O_CREAT | O_WRONLY | O_TRUNC, m, pl_real.creat(p, m))
}
PL_PATH_HOOK(int, creat64, (const char *p, mode_t m), (p, m), p, pl_real.creat64(p, m)) {
  OPEN_BODY(creat64, AT_FDCWD, p, O_CREAT | O_WRONLY | O_TRUNC, m, pl_real.creat64(p, m))
}

/* fopen's mode string as open flags ("r", "w+", "ae", "rb", "wx", ...). */
static int fopen_flags(const char *mode) {
  int flags;
  switch (mode[0]) {
    case 'r': flags = O_RDONLY; break;
    case 'w': flags = O_WRONLY | O_CREAT | O_TRUNC; break;
    case 'a': flags = O_WRONLY | O_CREAT | O_APPEND; break;
    default: return -1;
  }
  for (const char *m = mode + 1; *m && *m != ','; m++) {
    if (*m == '+') flags = (flags & ~O_ACCMODE) | O_RDWR;
    else if (*m == 'e') flags |= O_CLOEXEC;
    else if (*m == 'x') flags |= O_EXCL;
  }
  return flags;
}

#define FOPEN_BODY(name, path, mode, REAL)                              \
  if (!pl_enter()) return REAL;                                         \
  int saved = errno;                                                    \
  int flags = mode ? fopen_flags(mode) : -1;                            \
  int fd = flags < 0 ? OPEN_BYPASS : open_decide(#name, AT_FDCWD, path, flags, 0666); \
  FILE *f = NULL;                                                       \
  if (fd >= 0) {                                                        \
    f = fdopen(fd, mode);                                               \
    if (!f) {                                                           \
      int e = errno;                                                    \
      pl_fd_release(fd);                                                \
      pl_real.close(fd);                                                \
      errno = e;                                                        \
    }                                                                   \
  }                                                                     \
  pl_leave();                                                           \
  if (fd == OPEN_BYPASS) {                                              \
    errno = saved;                                                      \
    return REAL;                                                        \
  }                                                                     \
  if (f) errno = saved;                                                 \
  return f;

PL_PATH_HOOK(FILE *, fopen, (const char *restrict p, const char *restrict m), (p, m), p, pl_real.fopen(p, m)) {
  FOPEN_BODY(fopen, p, m, pl_real.fopen(p, m))
}
PL_PATH_HOOK(FILE *, fopen64, (const char *restrict p, const char *restrict m), (p, m), p, pl_real.fopen64(p, m)) {
  FOPEN_BODY(fopen64, p, m, pl_real.fopen64(p, m))
}

/* fclose closes its descriptor inside libc, where no close hook sees it: write back here. */
PL_EXPORT int fclose(FILE *f) {
  pl_ensure_init();
  /* glibc's FILE is public (struct _IO_FILE): its descriptor, without fileno's lock and call. */
  struct pl_fdobj *o = f ? pl_fd_get(f->_fileno) : NULL;
  int fd = f ? f->_fileno : -1;
  if (PL_LIKELY(!o) || o == &pl_layer_mark || getpid() != pl_pid) return pl_real.fclose(f);
  bool took_guard = !pl_guard;
  pl_guard = 1;
  fflush(f);
  int wb = pl_fd_release(fd);
  if (took_guard) pl_guard = 0;
  int r = pl_real.fclose(f);
  if (r == 0 && wb < 0) {
    errno = EIO;
    return EOF;
  }
  return r;
}

/* exit() without close: write back what is still open. Runs among the destructors, before libc's own
 * stdio clean-up, so streams are flushed here first. Not run on _exit or a fatal signal. */
__attribute__((destructor)) static void writeback_at_exit(void) {
  if (__atomic_load_n(&pl_state, __ATOMIC_ACQUIRE) != PL_ACTIVE || getpid() != pl_pid) return;
  bool took_guard = !pl_guard;
  pl_guard = 1;
  fflush(NULL);
  int end = __atomic_load_n(&pl_fd_end, __ATOMIC_ACQUIRE);
  for (int fd = 0; fd < end; fd++) {
    struct pl_fdobj *o = pl_fd_get(fd);
    if (PL_UNLIKELY(o != NULL) && o != &pl_layer_mark && o->kind == FDK_WFILE) (void)pl_fd_release(fd);
  }
  if (took_guard) pl_guard = 0;
}
