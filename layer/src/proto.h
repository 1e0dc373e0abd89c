/* C codec of the layer-link messages (docs/protocol.md, protocol/spec.ts). Decoding is zero-copy:
 * strings and bytes point into the frame buffer, lists are validated up front and walked with the
 * pl_next_* iterators. Encoding writes into a caller-provided buffer. */
#ifndef PODLINK_PROTO_H
#define PODLINK_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol_ids.h"

enum pl_proto_err {
  PL_OK = 0,
  PL_E_TRUNCATED = -1,
  PL_E_TRAILING = -2,
  PL_E_UNKNOWN_TYPE = -3,
  PL_E_BAD_VALUE = -4,
  PL_E_FRAME_TOO_LARGE = -5,
  /* A Hello/HelloOk of another protocol version: only its version and build were read. */
  PL_E_VERSION_MISMATCH = -6,
};
const char *pl_proto_err_name(int err);

typedef struct {
  const uint8_t *p; /* not NUL-terminated */
  uint32_t len;
} pl_bytes;

typedef struct {
  uint8_t family; /* 4 or 6 */
  uint16_t port;
  uint8_t ip[16]; /* 4 or 16 bytes used, network order */
} pl_addr;

typedef struct {
  uint64_t dev, ino;
  uint32_t mode;
  uint64_t nlink;
  uint32_t uid, gid;
  uint64_t rdev, size, blksize, blocks;
  int64_t atime_sec;
  uint32_t atime_nsec;
  int64_t mtime_sec;
  uint32_t mtime_nsec;
  int64_t ctime_sec;
  uint32_t ctime_nsec;
} pl_stat;

/* A validated list: `count` items starting at `p` (wire form). */
typedef struct {
  uint32_t count;
  const uint8_t *p;
  uint32_t len; /* bytes of all items */
} pl_list;

typedef struct {
  uint16_t type;
  uint32_t id;
  union {
    struct { uint16_t version; pl_bytes build; uint8_t role; uint32_t pid, ppid; pl_bytes name, token; } hello;
    struct { uint16_t version; pl_bytes build; uint32_t agent_pid; } hello_ok;
    struct { uint32_t err; pl_bytes message; } error;
    struct { pl_bytes name; uint8_t family; } resolve;
    struct { pl_bytes canonical; pl_list addrs; uint32_t ttl; } resolved;
    struct { pl_bytes path; bool follow; } stat_req;
    struct { pl_stat st; } stat_res;
    struct { pl_bytes path; uint32_t mode; } access;
    struct { pl_bytes path; } path; /* ReadLink, ReadDir */
    struct { pl_bytes target; } link;
    struct { pl_list entries; } dir_entries;
    struct { pl_bytes path; uint64_t offset; uint32_t max; } read_file;
    struct { pl_stat st; pl_bytes data; bool eof; } file_data;
    struct { pl_bytes path; uint64_t offset; pl_bytes data; bool truncate; uint32_t mode; } write_file;
    struct { bool ipv4, ipv6; } addr_config;
    struct { uint8_t proto; pl_addr remote; uint8_t local_family; pl_addr source; } connect;
    struct { uint32_t conn; pl_addr local; } connected;
    struct { uint32_t conn; } release;
    struct { pl_addr local; uint16_t port; } listen;
    struct { pl_addr local; } unlisten;
    struct { pl_addr listener, peer; } incoming_peer;
    struct { pl_addr remote, local; } peer;
  } u;
} pl_msg;

typedef struct {
  pl_bytes name;
  uint64_t ino;
  uint8_t type;
} pl_dirent;

/* Decode one whole frame (length prefix included, nothing after it). Returns PL_OK or a PL_E_* code. */
int pl_decode(const uint8_t *frame, size_t len, pl_msg *out);
/* Decode the bytes after the length field. */
int pl_decode_body(const uint8_t *body, size_t len, pl_msg *out);

/* Iterators over validated lists: *cursor starts at list.p; call exactly list.count times. */
void pl_next_addr(const uint8_t **cursor, pl_addr *out);
void pl_next_dirent(const uint8_t **cursor, pl_dirent *out);

/* Encoded size of a message (frame with length prefix), or 0 for a type the layer cannot encode. */
size_t pl_encoded_size(const pl_msg *m);
/* Encode into buf (cap bytes). Returns the frame length, or 0 if it does not fit / unknown type. */
size_t pl_encode(const pl_msg *m, uint8_t *buf, size_t cap);

/* Convenience for building requests from C strings. */
static inline pl_bytes pl_str(const char *s, size_t n) { return (pl_bytes){(const uint8_t *)s, (uint32_t)n}; }

#endif
