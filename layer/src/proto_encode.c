/* Layer-link codec, encoding half (decoding: proto.c). Writes into a caller's buffer: no allocation. */
#include <string.h>

#include "proto.h"

/* ------------------------------------------------------------------------------------------------ */
/* Encoding: a counting pass (buf NULL) and a writing pass share the same code. */

typedef struct {
  uint8_t *buf;
  size_t cap, len;
} wr;

static void put_le(wr *w, uint64_t v, int n) {
  if (w->buf && w->len + (size_t)n <= w->cap)
    for (int i = 0; i < n; i++) w->buf[w->len + (size_t)i] = (uint8_t)(v >> (8 * i));
  w->len += (size_t)n;
}
static void put_raw(wr *w, const void *p, size_t n) {
  if (w->buf && w->len + n <= w->cap && n) memcpy(w->buf + w->len, p, n);
  w->len += n;
}
static void put_bytes(wr *w, pl_bytes b) {
  put_le(w, b.len, 4);
  put_raw(w, b.p, b.len);
}
static void put_addr(wr *w, const pl_addr *a) {
  put_le(w, a->family, 1);
  put_le(w, a->port, 2);
  put_raw(w, a->ip, a->family == 4 ? 4 : 16);
}
static void put_stat(wr *w, const pl_stat *s) {
  put_le(w, s->dev, 8);
  put_le(w, s->ino, 8);
  put_le(w, s->mode, 4);
  put_le(w, s->nlink, 8);
  put_le(w, s->uid, 4);
  put_le(w, s->gid, 4);
  put_le(w, s->rdev, 8);
  put_le(w, s->size, 8);
  put_le(w, s->blksize, 8);
  put_le(w, s->blocks, 8);
  put_le(w, (uint64_t)s->atime_sec, 8);
  put_le(w, s->atime_nsec, 4);
  put_le(w, (uint64_t)s->mtime_sec, 8);
  put_le(w, s->mtime_nsec, 4);
  put_le(w, (uint64_t)s->ctime_sec, 8);
  put_le(w, s->ctime_nsec, 4);
}

static bool encode_into(const pl_msg *m, wr *w) {
  put_le(w, 0, 4); /* length, patched below */
  put_le(w, m->type, 2);
  put_le(w, m->id, 4);
  switch (m->type) {
    case PL_MSG_HELLO:
      put_le(w, m->u.hello.version, 2);
      put_bytes(w, m->u.hello.build);
      put_le(w, m->u.hello.role, 1);
      put_le(w, m->u.hello.pid, 4);
      put_le(w, m->u.hello.ppid, 4);
      put_bytes(w, m->u.hello.name);
      put_bytes(w, m->u.hello.token);
      break;
    case PL_MSG_HELLO_OK:
      put_le(w, m->u.hello_ok.version, 2);
      put_bytes(w, m->u.hello_ok.build);
      put_le(w, m->u.hello_ok.agent_pid, 4);
      break;
    case PL_MSG_ERROR:
      put_le(w, m->u.error.err, 4);
      put_bytes(w, m->u.error.message);
      break;
    case PL_MSG_OK: break;
    case PL_MSG_RESOLVE:
      put_bytes(w, m->u.resolve.name);
      put_le(w, m->u.resolve.family, 1);
      break;
    case PL_MSG_RESOLVED: {
      put_bytes(w, m->u.resolved.canonical);
      put_le(w, m->u.resolved.addrs.count, 4);
      const uint8_t *c = m->u.resolved.addrs.p;
      for (uint32_t i = 0; i < m->u.resolved.addrs.count; i++) {
        pl_addr a;
        pl_next_addr(&c, &a);
        put_addr(w, &a);
      }
      put_le(w, m->u.resolved.ttl, 4);
      break;
    }
    case PL_MSG_GET_ADDR_CONFIG: break;
    case PL_MSG_ADDR_CONFIG:
      put_le(w, m->u.addr_config.ipv4 ? 1 : 0, 1);
      put_le(w, m->u.addr_config.ipv6 ? 1 : 0, 1);
      break;
    case PL_MSG_STAT:
      put_bytes(w, m->u.stat_req.path);
      put_le(w, m->u.stat_req.follow ? 1 : 0, 1);
      break;
    case PL_MSG_STAT_RESULT: put_stat(w, &m->u.stat_res.st); break;
    case PL_MSG_ACCESS:
      put_bytes(w, m->u.access.path);
      put_le(w, m->u.access.mode, 4);
      break;
    case PL_MSG_READ_LINK:
    case PL_MSG_READ_DIR: put_bytes(w, m->u.path.path); break;
    case PL_MSG_LINK: put_bytes(w, m->u.link.target); break;
    case PL_MSG_DIR_ENTRIES: {
      put_le(w, m->u.dir_entries.entries.count, 4);
      const uint8_t *c = m->u.dir_entries.entries.p;
      for (uint32_t i = 0; i < m->u.dir_entries.entries.count; i++) {
        pl_dirent d;
        pl_next_dirent(&c, &d);
        put_bytes(w, d.name);
        put_le(w, d.ino, 8);
        put_le(w, d.type, 1);
      }
      break;
    }
    case PL_MSG_READ_FILE:
      put_bytes(w, m->u.read_file.path);
      put_le(w, m->u.read_file.offset, 8);
      put_le(w, m->u.read_file.max, 4);
      break;
    case PL_MSG_FILE_DATA:
      put_stat(w, &m->u.file_data.st);
      put_bytes(w, m->u.file_data.data);
      put_le(w, m->u.file_data.eof ? 1 : 0, 1);
      break;
    case PL_MSG_WRITE_FILE:
      put_bytes(w, m->u.write_file.path);
      put_le(w, m->u.write_file.offset, 8);
      put_bytes(w, m->u.write_file.data);
      put_le(w, m->u.write_file.truncate ? 1 : 0, 1);
      put_le(w, m->u.write_file.mode, 4);
      break;
    case PL_MSG_CONNECT:
      put_le(w, m->u.connect.proto, 1);
      put_addr(w, &m->u.connect.remote);
      put_le(w, m->u.connect.local_family, 1);
      put_addr(w, &m->u.connect.source);
      break;
    case PL_MSG_CONNECTED:
      put_le(w, m->u.connected.conn, 4);
      put_addr(w, &m->u.connected.local);
      break;
    case PL_MSG_RELEASE: put_le(w, m->u.release.conn, 4); break;
    case PL_MSG_LISTEN:
      put_addr(w, &m->u.listen.local);
      put_le(w, m->u.listen.port, 2);
      break;
    case PL_MSG_UNLISTEN: put_addr(w, &m->u.unlisten.local); break;
    case PL_MSG_INCOMING_PEER:
      put_addr(w, &m->u.incoming_peer.listener);
      put_addr(w, &m->u.incoming_peer.peer);
      break;
    case PL_MSG_PEER:
      put_addr(w, &m->u.peer.remote);
      put_addr(w, &m->u.peer.local);
      break;
    default: return false;
  }
  return true;
}

size_t pl_encoded_size(const pl_msg *m) {
  wr w = {NULL, 0, 0};
  return encode_into(m, &w) ? w.len : 0;
}

size_t pl_encode(const pl_msg *m, uint8_t *buf, size_t cap) {
  wr w = {buf, cap, 0};
  if (!encode_into(m, &w) || w.len > cap || w.len - 4 > PL_MAX_FRAME) return 0;
  uint32_t n = (uint32_t)(w.len - 4);
  for (int i = 0; i < 4; i++) buf[i] = (uint8_t)(n >> (8 * i));
  return w.len;
}
