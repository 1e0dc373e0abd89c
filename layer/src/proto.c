/* Layer-link codec. Every length is checked against what is left before it is used, so a hostile or
 * corrupt frame yields an error code, never an out-of-bounds read or a large allocation (there is no
 * allocation at all). */
#include "proto.h"

#include <string.h>

const char *pl_proto_err_name(int err) {
  switch (err) {
    case PL_OK: return "ok";
    case PL_E_TRUNCATED: return "truncated";
    case PL_E_TRAILING: return "trailing";
    case PL_E_UNKNOWN_TYPE: return "unknown_type";
    case PL_E_BAD_VALUE: return "bad_value";
    case PL_E_FRAME_TOO_LARGE: return "frame_too_large";
    case PL_E_VERSION_MISMATCH: return "version_mismatch";
    default: return "?";
  }
}

/* ------------------------------------------------------------------------------------------------ */
/* Decoding */

typedef struct {
  const uint8_t *p, *end;
  int err; /* first error; once set, every read returns zeros */
} rd;

static bool need(rd *r, size_t n) {
  if (r->err) return false;
  if ((size_t)(r->end - r->p) < n) {
    r->err = PL_E_TRUNCATED;
    return false;
  }
  return true;
}

static uint64_t get_le(rd *r, int n) {
  if (!need(r, (size_t)n)) return 0;
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--) v = (v << 8) | r->p[i];
  r->p += n;
  return v;
}
#define U8(r) ((uint8_t)get_le(r, 1))
#define U16(r) ((uint16_t)get_le(r, 2))
#define U32(r) ((uint32_t)get_le(r, 4))
#define U64(r) (get_le(r, 8))
#define I64(r) ((int64_t)get_le(r, 8))

static bool get_bool(rd *r) {
  uint8_t v = U8(r);
  if (v > 1 && !r->err) r->err = PL_E_BAD_VALUE;
  return v == 1;
}

/* Strict UTF-8, as TextDecoder('utf-8', {fatal: true}): no overlongs, no surrogates, max U+10FFFF. */
static bool utf8_valid(const uint8_t *s, uint32_t n) {
  uint32_t i = 0;
  while (i < n) {
    uint8_t c = s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    uint32_t need_bytes, cp, min;
    if (c >= 0xc2 && c <= 0xdf) need_bytes = 1, cp = c & 0x1f, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef) need_bytes = 2, cp = c & 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4) need_bytes = 3, cp = c & 0x07, min = 0x10000;
    else return false;
    if (n - i - 1 < need_bytes) return false;
    for (uint32_t k = 1; k <= need_bytes; k++) {
      uint8_t cc = s[i + k];
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += need_bytes + 1;
  }
  return true;
}

static pl_bytes get_bytes(rd *r) {
  pl_bytes b = {NULL, 0};
  uint32_t n = U32(r);
  if (!need(r, n)) return b;
  b.p = r->p;
  b.len = n;
  r->p += n;
  return b;
}

static pl_bytes get_str(rd *r) {
  pl_bytes b = get_bytes(r);
  if (!r->err && !utf8_valid(b.p, b.len)) r->err = PL_E_BAD_VALUE;
  return b;
}

static void get_addr(rd *r, pl_addr *a) {
  memset(a, 0, sizeof *a);
  a->family = U8(r);
  a->port = U16(r);
  if (r->err) return;
  size_t n = a->family == 4 ? 4 : a->family == 6 ? 16 : 0;
  if (!n) {
    r->err = PL_E_BAD_VALUE;
    return;
  }
  if (!need(r, n)) return;
  memcpy(a->ip, r->p, n);
  r->p += n;
}

static void get_stat(rd *r, pl_stat *s) {
  s->dev = U64(r);
  s->ino = U64(r);
  s->mode = U32(r);
  s->nlink = U64(r);
  s->uid = U32(r);
  s->gid = U32(r);
  s->rdev = U64(r);
  s->size = U64(r);
  s->blksize = U64(r);
  s->blocks = U64(r);
  s->atime_sec = I64(r);
  s->atime_nsec = U32(r);
  s->mtime_sec = I64(r);
  s->mtime_nsec = U32(r);
  s->ctime_sec = I64(r);
  s->ctime_nsec = U32(r);
}

/* Reads a list header, refuses a count that cannot fit (min_item bytes each), then validates every
 * item with `item` so the iterators can trust the bytes later. */
static void get_list(rd *r, pl_list *l, size_t min_item, void (*item)(rd *)) {
  l->count = U32(r);
  l->p = r->p;
  l->len = 0;
  if (r->err) return;
  if ((uint64_t)l->count * min_item > (uint64_t)(r->end - r->p)) {
    r->err = PL_E_TRUNCATED;
    return;
  }
  for (uint32_t i = 0; i < l->count && !r->err; i++) item(r);
  l->len = (uint32_t)(r->p - l->p);
}

static void check_addr(rd *r) {
  pl_addr a;
  get_addr(r, &a);
}

static void check_dirent(rd *r) {
  (void)get_str(r);
  (void)U64(r);
  (void)U8(r);
}

int pl_decode_body(const uint8_t *body, size_t len, pl_msg *m) {
  memset(m, 0, sizeof *m);
  if (len < PL_HEADER_AFTER_LENGTH) return PL_E_TRUNCATED;
  rd r = {body, body + len, 0};
  m->type = U16(&r);
  m->id = U32(&r);
  switch (m->type) {
    /* Hello and HelloOk start with their version in every protocol version (spec.ts): a peer of
     * another version is reported as such, whatever follows. */
    case PL_MSG_HELLO:
      m->u.hello.version = U16(&r);
      if (!r.err && m->u.hello.version != PL_PROTOCOL_VERSION) return PL_E_VERSION_MISMATCH;
      m->u.hello.build = get_str(&r);
      m->u.hello.role = U8(&r);
      m->u.hello.pid = U32(&r);
      m->u.hello.ppid = U32(&r);
      m->u.hello.name = get_str(&r);
      m->u.hello.token = get_str(&r);
      break;
    case PL_MSG_HELLO_OK:
      m->u.hello_ok.version = U16(&r);
      if (!r.err && m->u.hello_ok.version != PL_PROTOCOL_VERSION) return PL_E_VERSION_MISMATCH;
      m->u.hello_ok.build = get_str(&r);
      m->u.hello_ok.agent_pid = U32(&r);
      break;
    case PL_MSG_ERROR:
      m->u.error.err = U32(&r);
      m->u.error.message = get_str(&r);
      break;
    case PL_MSG_OK: break;
    case PL_MSG_RESOLVE:
      m->u.resolve.name = get_str(&r);
      m->u.resolve.family = U8(&r);
      break;
    case PL_MSG_RESOLVED:
      m->u.resolved.canonical = get_str(&r);
      get_list(&r, &m->u.resolved.addrs, 7, check_addr);
      m->u.resolved.ttl = U32(&r);
      break;
    case PL_MSG_GET_ADDR_CONFIG: break;
    case PL_MSG_ADDR_CONFIG:
      m->u.addr_config.ipv4 = get_bool(&r);
      m->u.addr_config.ipv6 = get_bool(&r);
      break;
    case PL_MSG_STAT:
      m->u.stat_req.path = get_str(&r);
      m->u.stat_req.follow = get_bool(&r);
      break;
    case PL_MSG_STAT_RESULT: get_stat(&r, &m->u.stat_res.st); break;
    case PL_MSG_ACCESS:
      m->u.access.path = get_str(&r);
      m->u.access.mode = U32(&r);
      break;
    case PL_MSG_READ_LINK:
    case PL_MSG_READ_DIR: m->u.path.path = get_str(&r); break;
    case PL_MSG_LINK: m->u.link.target = get_str(&r); break;
    case PL_MSG_DIR_ENTRIES: get_list(&r, &m->u.dir_entries.entries, 13, check_dirent); break;
    case PL_MSG_READ_FILE:
      m->u.read_file.path = get_str(&r);
      m->u.read_file.offset = U64(&r);
      m->u.read_file.max = U32(&r);
      break;
    case PL_MSG_FILE_DATA:
      get_stat(&r, &m->u.file_data.st);
      m->u.file_data.data = get_bytes(&r);
      m->u.file_data.eof = get_bool(&r);
      break;
    case PL_MSG_WRITE_FILE:
      m->u.write_file.path = get_str(&r);
      m->u.write_file.offset = U64(&r);
      m->u.write_file.data = get_bytes(&r);
      m->u.write_file.truncate = get_bool(&r);
      m->u.write_file.mode = U32(&r);
      break;
    case PL_MSG_CONNECT:
      m->u.connect.proto = U8(&r);
      get_addr(&r, &m->u.connect.remote);
      m->u.connect.local_family = U8(&r);
      get_addr(&r, &m->u.connect.source);
      break;
    case PL_MSG_CONNECTED:
      m->u.connected.conn = U32(&r);
      get_addr(&r, &m->u.connected.local);
      break;
    case PL_MSG_RELEASE: m->u.release.conn = U32(&r); break;
    case PL_MSG_LISTEN:
      get_addr(&r, &m->u.listen.local);
      m->u.listen.port = U16(&r);
      break;
    case PL_MSG_UNLISTEN: get_addr(&r, &m->u.unlisten.local); break;
    case PL_MSG_INCOMING_PEER:
      get_addr(&r, &m->u.incoming_peer.listener);
      get_addr(&r, &m->u.incoming_peer.peer);
      break;
    case PL_MSG_PEER:
      get_addr(&r, &m->u.peer.remote);
      get_addr(&r, &m->u.peer.local);
      break;
    default: return PL_E_UNKNOWN_TYPE;
  }
  if (r.err) return r.err;
  if (r.p != r.end) return PL_E_TRAILING;
  return PL_OK;
}

int pl_decode(const uint8_t *frame, size_t len, pl_msg *out) {
  if (len < 4) return PL_E_TRUNCATED;
  uint32_t n = (uint32_t)frame[0] | (uint32_t)frame[1] << 8 | (uint32_t)frame[2] << 16 | (uint32_t)frame[3] << 24;
  if (n > PL_MAX_FRAME) return PL_E_FRAME_TOO_LARGE;
  if (len - 4 < n) return PL_E_TRUNCATED;
  if (len - 4 > n) return PL_E_TRAILING;
  return pl_decode_body(frame + 4, n, out);
}

void pl_next_addr(const uint8_t **cursor, pl_addr *out) {
  rd r = {*cursor, *cursor + 19, 0};
  get_addr(&r, out);
  *cursor = r.p;
}

void pl_next_dirent(const uint8_t **cursor, pl_dirent *out) {
  const uint8_t *p = *cursor;
  uint32_t n = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
  out->name.p = p + 4;
  out->name.len = n;
  p += 4 + n;
  uint64_t ino = 0;
  for (int i = 7; i >= 0; i--) ino = (ino << 8) | p[i];
  out->ino = ino;
  out->type = p[8];
  *cursor = p + 9;
}

