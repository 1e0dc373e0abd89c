/* Connections to the intproxy. Lazy (opened on first need), CLOEXEC, moved to a high descriptor and
 * marked in the fd table so the app's close/dup2/close_range cannot destroy them. A small pool lets
 * threads run requests in parallel: the mutex guards only the pool list, never an exchange. */
#include "rpc.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "config.h"
#include "fdtable.h"
#include "real.h"

#define POOL_MAX 16
#define SLOT_EMPTY (-1)
#define SLOT_OPENING (-2)

static struct {
  int fd; /* SLOT_EMPTY, SLOT_OPENING, or an open connection */
  bool busy;
} pool[POOL_MAX] = {[0 ... POOL_MAX - 1] = {SLOT_EMPTY, false}};
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static uint32_t next_id = 1;

static bool write_all(int fd, const uint8_t *p, size_t n) {
  while (n) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= (size_t)w;
  }
  return true;
}

static bool read_all(int fd, uint8_t *p, size_t n) {
  while (n) {
    ssize_t r = recv(fd, p, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= (size_t)r;
  }
  return true;
}

static void drop_fd(int fd) {
  pl_fd_mark_layer(fd, false);
  pl_real.close(fd);
}

/* Result of one exchange on one connection. */
enum { XCH_OK, XCH_IO, XCH_PROTO };

/* One frame into resp, whatever its id. */
static int read_frame(int fd, struct pl_resp *resp) {
  uint8_t head[4];
  if (!read_all(fd, head, 4)) return XCH_IO;
  uint32_t n = (uint32_t)head[0] | (uint32_t)head[1] << 8 | (uint32_t)head[2] << 16 | (uint32_t)head[3] << 24;
  if (n > PL_MAX_FRAME || n < PL_HEADER_AFTER_LENGTH) return XCH_PROTO;
  uint8_t *buf = resp->inline_buf;
  if (n > sizeof resp->inline_buf) {
    buf = resp->heap = malloc(n);
    if (!buf) return XCH_PROTO;
  }
  if (!read_all(fd, buf, n)) return XCH_IO;
  if (pl_decode_body(buf, n, &resp->msg) != PL_OK) return XCH_PROTO;
  return XCH_OK;
}

static int read_answer(int fd, uint32_t id, struct pl_resp *resp) {
  int x = read_frame(fd, resp);
  return x == XCH_OK && resp->msg.id != id ? XCH_PROTO : x;
}

static int exchange(int fd, const uint8_t *req, size_t req_len, uint32_t id, struct pl_resp *resp) {
  if (!write_all(fd, req, req_len)) return XCH_IO;
  return read_answer(fd, id, resp);
}

/* A new connection to the intproxy, out of the app's way and marked as ours; no Hello yet. */
static int dial(void) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  memcpy(sa.sun_path, pl_cfg.sock, strlen(pl_cfg.sock) + 1);
  if (pl_real.connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    pl_real.close(fd);
    return -1;
  }
  return pl_fd_take_high(fd, 200);
}

/* The Hello every link starts with, encoded into buf; returns its length (0: does not fit). */
static size_t encode_hello(uint8_t *buf, size_t cap, uint32_t *id) {
  extern char *program_invocation_short_name;
  const char *name = program_invocation_short_name ? program_invocation_short_name : "";
  pl_msg hello = {.type = PL_MSG_HELLO};
  hello.id = __atomic_fetch_add(&next_id, 1, __ATOMIC_RELAXED);
  hello.u.hello.version = PL_PROTOCOL_VERSION;
  hello.u.hello.build = pl_str(PL_BUILD, sizeof PL_BUILD - 1);
  hello.u.hello.role = 1;
  hello.u.hello.pid = (uint32_t)pl_pid;
  hello.u.hello.ppid = (uint32_t)getppid();
  hello.u.hello.name = pl_str(name, strnlen(name, 255));
  *id = hello.id;
  return pl_encode(&hello, buf, cap);
}

static int open_conn(void) {
  int fd = dial();
  if (fd < 0) return -1;
  uint8_t buf[512];
  uint32_t hello_id;
  size_t len = encode_hello(buf, sizeof buf, &hello_id);
  struct pl_resp resp = {.heap = NULL};
  int x = len ? exchange(fd, buf, len, hello_id, &resp) : XCH_PROTO;
  bool ok = x == XCH_OK && resp.msg.type == PL_MSG_HELLO_OK;
  if (!ok && x == XCH_OK && resp.msg.type == PL_MSG_ERROR)
    pl_debug("rpc: intproxy refused Hello: errno %u", resp.msg.u.error.err);
  pl_resp_free(&resp);
  if (!ok) {
    drop_fd(fd);
    return -1;
  }
  return fd;
}

/* Takes a free pooled connection or opens one. *slot is -1 for a connection outside the pool (pool
 * full). *fresh tells whether it was just opened. Returns the fd or -1. */
static int acquire(int *slot, bool *fresh) {
  int empty = -1;
  pthread_mutex_lock(&pool_mu);
  for (int i = 0; i < POOL_MAX; i++) {
    if (pool[i].fd >= 0 && !pool[i].busy) {
      pool[i].busy = true;
      int fd = pool[i].fd;
      pthread_mutex_unlock(&pool_mu);
      *slot = i;
      *fresh = false;
      return fd;
    }
    if (pool[i].fd == SLOT_EMPTY && empty < 0) empty = i;
  }
  if (empty >= 0) {
    pool[empty].fd = SLOT_OPENING;
    pool[empty].busy = true;
  }
  pthread_mutex_unlock(&pool_mu);
  *slot = empty;
  *fresh = true;
  int fd = open_conn(); /* outside the lock: connecting may take a moment */
  if (empty >= 0) {
    pthread_mutex_lock(&pool_mu);
    pool[empty].fd = fd >= 0 ? fd : SLOT_EMPTY;
    pool[empty].busy = fd >= 0;
    pthread_mutex_unlock(&pool_mu);
  }
  return fd;
}

/* The fd of a slot may have been moved by dup2 (pl_rpc_move_fd) while we held it. */
static int slot_fd(int slot, int fd) {
  if (slot < 0) return fd;
  return __atomic_load_n(&pool[slot].fd, __ATOMIC_ACQUIRE);
}

static void release(int slot, int fd, bool healthy) {
  if (slot < 0) {
    drop_fd(fd);
    return;
  }
  pthread_mutex_lock(&pool_mu);
  fd = pool[slot].fd;
  if (!healthy) {
    drop_fd(fd);
    pool[slot].fd = SLOT_EMPTY;
  }
  pool[slot].busy = false;
  pthread_mutex_unlock(&pool_mu);
}

void pl_resp_free(struct pl_resp *resp) {
  free(resp->heap);
  resp->heap = NULL;
}

int pl_rpc(pl_msg *req, uint16_t want, struct pl_resp *resp) {
  uint8_t stack[8192];
  resp->heap = NULL;
  req->id = __atomic_fetch_add(&next_id, 1, __ATOMIC_RELAXED);
  size_t need = pl_encoded_size(req);
  if (!need || need - 4 > PL_MAX_FRAME) return PL_RPC_GONE;
  uint8_t *buf = need <= sizeof stack ? stack : malloc(need);
  if (!buf) return PL_RPC_GONE;
  size_t len = pl_encode(req, buf, need);
  int result = PL_RPC_GONE;
  for (int attempt = 0; attempt < 2 && len; attempt++) {
    int slot;
    bool fresh;
    int fd = acquire(&slot, &fresh);
    if (fd < 0) break;
    pl_resp_free(resp);
    int x = exchange(slot_fd(slot, fd), buf, len, req->id, resp);
    release(slot, fd, x == XCH_OK);
    if (x == XCH_OK) {
      if (resp->msg.type == want) result = 0;
      else if (resp->msg.type == PL_MSG_ERROR) result = resp->msg.u.error.err ? (int)resp->msg.u.error.err : EIO;
      else pl_debug("rpc: answer of type %x to a request of type %x", resp->msg.type, req->type);
      break;
    }
    if (x == XCH_PROTO || fresh) break; /* retry only a reused connection that broke */
  }
  if (buf != stack) free(buf);
  return result;
}

int pl_rpc_stat(const char *path, bool follow, pl_stat *st) {
  pl_msg req = {.type = PL_MSG_STAT};
  req.u.stat_req.path = pl_str(path, strlen(path));
  req.u.stat_req.follow = follow;
  struct pl_resp resp;
  int r = pl_rpc(&req, PL_MSG_STAT_RESULT, &resp);
  if (r == 0) *st = resp.msg.u.stat_res.st;
  pl_resp_free(&resp);
  return r;
}

void pl_rpc_send_only(pl_msg *req) {
  uint8_t buf[64];
  req->id = __atomic_fetch_add(&next_id, 1, __ATOMIC_RELAXED);
  size_t len = pl_encode(req, buf, sizeof buf);
  if (!len) return;
  int slot;
  bool fresh;
  int fd = acquire(&slot, &fresh);
  if (fd < 0) return;
  release(slot, fd, write_all(slot_fd(slot, fd), buf, len));
}

/* Hello and the request go out together, in one write: the app's call does not wait for HelloOk,
 * which pl_rpc_answer takes off the link before the answer (the intproxy sends the two together). */
int pl_rpc_dedicated(pl_msg *req) {
  uint8_t buf[768];
  uint32_t hello_id;
  size_t hl = encode_hello(buf, 512, &hello_id);
  req->id = __atomic_fetch_add(&next_id, 1, __ATOMIC_RELAXED);
  size_t len = hl ? pl_encode(req, buf + hl, sizeof buf - hl) : 0;
  if (!len) return -1;
  int fd = dial();
  if (fd < 0) return -1;
  if (!write_all(fd, buf, hl + len)) {
    drop_fd(fd);
    return -1;
  }
  return fd;
}

int pl_rpc_answer(int fd, uint32_t id, uint16_t want, struct pl_resp *resp) {
  resp->heap = NULL;
  for (;;) {
    if (read_frame(fd, resp) != XCH_OK) return PL_RPC_GONE;
    if (resp->msg.type == PL_MSG_HELLO_OK && resp->msg.id != id) {
      pl_resp_free(resp);
      char c;
      if (recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) != 1) return PL_RPC_NOT_YET;
      continue;
    }
    if (resp->msg.id != id) return PL_RPC_GONE; /* the Hello refused (another protocol version), or garbage */
    if (resp->msg.type == want) return 0;
    if (resp->msg.type == PL_MSG_ERROR) return resp->msg.u.error.err ? (int)resp->msg.u.error.err : EIO;
    return PL_RPC_GONE;
  }
}

void pl_rpc_drop(int fd) { drop_fd(fd); }

void pl_rpc_send_and_drop(int fd, pl_msg *req) {
  uint8_t buf[64];
  req->id = __atomic_fetch_add(&next_id, 1, __ATOMIC_RELAXED);
  size_t len = pl_encode(req, buf, sizeof buf);
  if (len) (void)write_all(fd, buf, len);
  drop_fd(fd);
}

void pl_rpc_move_fd(int fd) {
  pthread_mutex_lock(&pool_mu);
  for (int i = 0; i < POOL_MAX; i++) {
    if (pool[i].fd != fd) continue;
    int moved = pl_real.fcntl(fd, F_DUPFD_CLOEXEC, fd + 1);
    if (moved < 0) moved = pl_real.fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (moved >= 0) {
      pl_fd_mark_layer(moved, true);
      __atomic_store_n(&pool[i].fd, moved, __ATOMIC_RELEASE);
    } else {
      pool[i].fd = pool[i].busy ? pool[i].fd : SLOT_EMPTY;
    }
    /* the caller's dup2 now replaces (and closes) the old number */
    pl_fd_mark_layer(fd, false);
    break;
  }
  pthread_mutex_unlock(&pool_mu);
}

void pl_rpc_atfork_prepare(void) { pthread_mutex_lock(&pool_mu); }
void pl_rpc_atfork_parent(void) { pthread_mutex_unlock(&pool_mu); }

/* The child must not share the parent's streams: close them (they would interleave frames) and
 * register again on its next request, with its own pid. */
void pl_rpc_atfork_child(void) {
  pthread_mutex_init(&pool_mu, NULL);
  for (int i = 0; i < POOL_MAX; i++) {
    if (pool[i].fd >= 0) drop_fd(pool[i].fd);
    pool[i].fd = SLOT_EMPTY;
    pool[i].busy = false;
  }
}
