/* Reading a remote file that is still arriving (file_stream.c): every way a descriptor's bytes can be
 * read from outside libc — read, readv, pread, preadv, the fortified __read_chk forms, mmap, sendfile,
 * copy_file_range, splice — waits until the bytes it asks for are there; lseek's SEEK_DATA/SEEK_HOLE
 * (which would see the not-yet-written part as a hole) and fdopen (stdio reads through libc's own
 * internal read, which no hook sees) wait for the whole file.
 *
 * Every other descriptor costs one table load: these are among the most frequent calls a program
 * makes. A stream that is done passes straight through too. Nothing here logs. */
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/uio.h>

#include "common.h"
#include "fdtable.h"
#include "file_stream.h"
#include "real.h"

/* The stream behind fd while its bytes are still arriving, else NULL. */
static inline struct pl_stream *arriving(int fd) {
  struct pl_fdobj *o = pl_fd_get(fd);
  if (PL_LIKELY(!o) || o->kind != FDK_RFILE || !pl_stream_running(o->stream)) return NULL;
  return o->stream;
}

/* Waits for [0, end); false with errno set when the bytes will not come. */
static bool await(struct pl_stream *s, uint64_t end) {
  int r = pl_stream_wait(s, end);
  if (r) errno = r;
  return r == 0;
}

/* The end of a read of n bytes at the descriptor's current offset (lseek: the app's own reads move it). */
static uint64_t at_offset(int fd, size_t n) {
  off_t off = pl_real.lseek(fd, 0, SEEK_CUR);
  return off < 0 ? UINT64_MAX : (uint64_t)off + n;
}

static size_t iov_len(const struct iovec *iov, int cnt) {
  size_t n = 0;
  for (int i = 0; i < cnt && iov; i++) n += iov[i].iov_len;
  return n;
}

/*
 * A read hook in two parts: the exported NAME looks the descriptor up and, for the untracked ones (all
 * but a few), jumps straight to the real function; NAME_slow waits for the bytes of a stream still
 * arriving. Kept apart so that the fast part needs no stack frame. REAL may be missing for optional
 * symbols (a libc without preadv2): then ENOSYS, as the kernel of such a system would say. Before the
 * real table is resolved every pointer is NULL, which also sends the call the slow way, where
 * pl_ensure_init resolves it.
 */
#define READ_HOOK(ret, name, params, args, fd, end_expr, fail)                  \
  static __attribute__((noinline)) ret name##_slow params {                     \
    pl_ensure_init();                                                            \
    struct pl_stream *s = arriving(fd);                                          \
    if (s != NULL && !await(s, (end_expr))) return fail;                         \
    if (PL_UNLIKELY(!pl_real.name)) {                                            \
      errno = ENOSYS;                                                            \
      return fail;                                                               \
    }                                                                            \
    return pl_real.name args;                                                    \
  }                                                                              \
  PL_EXPORT ret name params {                                                    \
    if (PL_LIKELY(pl_fd_get(fd) == NULL) && PL_LIKELY(pl_real.name != NULL)) return pl_real.name args; \
    return name##_slow args;                                                     \
  }

READ_HOOK(ssize_t, read, (int fd, void *buf, size_t n), (fd, buf, n), fd, at_offset(fd, n), -1)
READ_HOOK(ssize_t, __read_chk, (int fd, void *buf, size_t n, size_t buflen), (fd, buf, n, buflen), fd, at_offset(fd, n), -1)
READ_HOOK(ssize_t, readv, (int fd, const struct iovec *iov, int cnt), (fd, iov, cnt), fd, at_offset(fd, iov_len(iov, cnt)), -1)
READ_HOOK(ssize_t, pread, (int fd, void *buf, size_t n, off_t off), (fd, buf, n, off), fd, (uint64_t)off + n, -1)
READ_HOOK(ssize_t, pread64, (int fd, void *buf, size_t n, off64_t off), (fd, buf, n, off), fd, (uint64_t)off + n, -1)
READ_HOOK(ssize_t, __pread_chk, (int fd, void *buf, size_t n, off_t off, size_t buflen), (fd, buf, n, off, buflen), fd,
          (uint64_t)off + n, -1)
READ_HOOK(ssize_t, __pread64_chk, (int fd, void *buf, size_t n, off64_t off, size_t buflen), (fd, buf, n, off, buflen), fd,
          (uint64_t)off + n, -1)
READ_HOOK(ssize_t, preadv, (int fd, const struct iovec *iov, int cnt, off_t off), (fd, iov, cnt, off), fd,
          (uint64_t)off + iov_len(iov, cnt), -1)
READ_HOOK(ssize_t, preadv64, (int fd, const struct iovec *iov, int cnt, off64_t off), (fd, iov, cnt, off), fd,
          (uint64_t)off + iov_len(iov, cnt), -1)
/* offset -1: the current one. */
READ_HOOK(ssize_t, preadv2, (int fd, const struct iovec *iov, int cnt, off_t off, int flags), (fd, iov, cnt, off, flags), fd,
          off == -1 ? at_offset(fd, iov_len(iov, cnt)) : (uint64_t)off + iov_len(iov, cnt), -1)
READ_HOOK(ssize_t, preadv64v2, (int fd, const struct iovec *iov, int cnt, off64_t off, int flags), (fd, iov, cnt, off, flags),
          fd, off == -1 ? at_offset(fd, iov_len(iov, cnt)) : (uint64_t)off + iov_len(iov, cnt), -1)

/* A mapping sees the file as it is in memory, now and later: all of it first. */
READ_HOOK(void *, mmap, (void *addr, size_t len, int prot, int flags, int fd, off_t off), (addr, len, prot, flags, fd, off), fd,
          UINT64_MAX, MAP_FAILED)
READ_HOOK(void *, mmap64, (void *addr, size_t len, int prot, int flags, int fd, off64_t off), (addr, len, prot, flags, fd, off),
          fd, UINT64_MAX, MAP_FAILED)

/* SEEK_DATA and SEEK_HOLE would see the part still on its way as a hole (cp looks for holes). */
READ_HOOK(off_t, lseek, (int fd, off_t off, int whence), (fd, off, whence), fd,
          whence == SEEK_DATA || whence == SEEK_HOLE ? UINT64_MAX : 0, -1)
READ_HOOK(off64_t, lseek64, (int fd, off64_t off, int whence), (fd, off, whence), fd,
          whence == SEEK_DATA || whence == SEEK_HOLE ? UINT64_MAX : 0, -1)

READ_HOOK(ssize_t, sendfile, (int out, int in, off_t *off, size_t n), (out, in, off, n), in, off ? (uint64_t)*off + n : at_offset(in, n),
          -1)
READ_HOOK(ssize_t, sendfile64, (int out, int in, off64_t *off, size_t n), (out, in, off, n), in,
          off ? (uint64_t)*off + n : at_offset(in, n), -1)
READ_HOOK(ssize_t, copy_file_range, (int in, off64_t *off_in, int out, off64_t *off_out, size_t n, unsigned int flags),
          (in, off_in, out, off_out, n, flags), in, off_in ? (uint64_t)*off_in + n : at_offset(in, n), -1)
READ_HOOK(ssize_t, splice, (int in, off64_t *off_in, int out, off64_t *off_out, size_t n, unsigned int flags),
          (in, off_in, out, off_out, n, flags), in, off_in ? (uint64_t)*off_in + n : at_offset(in, n), -1)

/* stdio reads with libc's internal read, which no hook sees: the whole file first. */
READ_HOOK(FILE *, fdopen, (int fd, const char *mode), (fd, mode), fd, UINT64_MAX, NULL)
