/* A remote file's content in and out of its memfd: fetched at open (the first chunk, then the rest,
 * now or streamed: file_stream.c), and written back at the last close of a write-back descriptor. The
 * open decisions themselves are hooks_file.c's. */
#include "file_fetch.h"

#include <stdlib.h>
#include <string.h>

#include "fdtable.h"
#include "file_stream.h"
#include "rpc.h"

#define WRITE_CHUNK (1024 * 1024)

static bool write_full(int fd, const uint8_t *p, size_t n, off_t off) {
  while (n) {
    ssize_t w = pwrite(fd, p, n, off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= (size_t)w;
    off += w;
  }
  return true;
}

/* Fetches the remote file into fd from *off to its end, or, with `first`, one chunk of at most
 * `first` bytes. Returns 0 (st filled by the chunk at offset 0, *off = bytes in fd, *eof), an errno,
 * or PL_RPC_GONE. */
static int fetch_from(int fd, const char *path, pl_stat *st, uint64_t *off_io, uint32_t first, bool *eof) {
  uint64_t off = *off_io;
  for (;;) {
    pl_msg req = {.type = PL_MSG_READ_FILE};
    req.u.read_file.path = pl_str(path, strlen(path));
    req.u.read_file.offset = off;
    req.u.read_file.max = first ? first : PL_MAX_FILE_CHUNK;
    struct pl_resp resp;
    int r = pl_rpc(&req, PL_MSG_FILE_DATA, &resp);
    if (r != 0) {
      pl_resp_free(&resp);
      return r;
    }
    if (off == 0) *st = resp.msg.u.file_data.st;
    pl_bytes d = resp.msg.u.file_data.data;
    bool ok = write_full(fd, d.p, d.len, (off_t)off);
    bool done = resp.msg.u.file_data.eof || d.len == 0;
    off += d.len;
    pl_resp_free(&resp);
    *off_io = off;
    *eof = done;
    if (!ok) return EIO;
    if (done || first) return 0;
  }
}

/* Fetches the whole remote file into fd. Returns 0 (st filled), an errno, or PL_RPC_GONE. */
int pl_fetch_whole(int fd, const char *path, pl_stat *st) {
  uint64_t off = 0;
  bool eof;
  return fetch_from(fd, path, st, &off, 0, &eof);
}

/* A read-only open: the first chunk, then the rest by a stream (several chunks in flight at once).
 * A descriptor opened close-on-exec is handed back at once, the rest arriving while the app reads;
 * any other could be inherited by an exec'd program, which could not wait for the rest, so the open
 * waits for all of it. Returns 0, an errno or PL_RPC_GONE; *stream is set when the app's descriptor
 * must stay attached to a stream still arriving. */
int pl_fetch_for_read(int fd, const char *path, int flags, pl_stat *st, struct pl_stream **stream) {
  uint64_t off = 0;
  bool eof;
  bool hand_back_early = (flags & O_CLOEXEC) != 0;
  int r = fetch_from(fd, path, st, &off, hand_back_early ? PL_STREAM_FIRST_CHUNK : PL_MAX_FILE_CHUNK, &eof);
  if (r != 0 || eof) return r;
  struct pl_stream *s = NULL;
  if (S_ISREG(st->mode) && st->size > off && ftruncate(fd, (off_t)st->size) == 0) s = pl_stream_start(fd, path, st, off);
  if (!s) {
    pl_stat later;
    return fetch_from(fd, path, &later, &off, 0, &eof);
  }
  if (hand_back_early) {
    *stream = s;
    return 0;
  }
  r = pl_stream_wait_all(s);
  pl_stream_unref(s);
  return r;
}

/* Last close of a write-back memfd: send its whole content, first chunk with truncate. */
int pl_file_writeback(int fd, struct pl_fdobj *o) {
  uint8_t *buf = malloc(WRITE_CHUNK);
  if (!buf) return -1;
  int rc = 0;
  off_t off = 0;
  for (bool first = true;; first = false) {
    ssize_t n = pread(fd, buf, WRITE_CHUNK, off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      rc = -1;
      break;
    }
    if (n == 0 && !first) break;
    pl_msg req = {.type = PL_MSG_WRITE_FILE};
    req.u.write_file.path = pl_str(o->path, strlen(o->path));
    req.u.write_file.offset = (uint64_t)off;
    req.u.write_file.data = (pl_bytes){buf, (uint32_t)n};
    req.u.write_file.truncate = first;
    req.u.write_file.mode = o->mode;
    struct pl_resp resp;
    int r = pl_rpc(&req, PL_MSG_OK, &resp);
    pl_resp_free(&resp);
    if (r != 0) {
      rc = -1;
      break;
    }
    off += n;
    if (n < WRITE_CHUNK) break;
  }
  free(buf);
  return rc;
}
