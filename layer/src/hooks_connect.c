/* connect() and getsockopt(SO_ERROR): kernel-exact socket semantics for remote connections, decided
 * from the fd table.
 *
 *   blocking socket       Connect round trip to the intproxy (which waits for the target's connect),
 *                         then the real connect of the user's socket to the endpoint it offers.
 *   non-blocking socket   returns EINPROGRESS at once. Until the target has connected, the socket is a
 *                         silent placeholder (listening, every packet dropped): poll/epoll/select see
 *                         nothing, exactly like a SYN in flight. pending.c then connects it to the
 *                         endpoint (writable, SO_ERROR 0) or makes it fail locally and reports the
 *                         target's errno through SO_ERROR and the next connect.
 *   connect again         (APR, Perl IO::Socket with Timeout, Ruby connect_nonblock) never opens a
 *                         second remote connection: EALREADY while the target is connecting; then
 *                         the kernel's own answer for the socket's endpoint (0 once, EISCONN after);
 *                         after a failure, the target's errno once.
 *
 * The user's socket is bound first (wildcard, port 0) when it is not: its port is Connect.source, the
 * only peer the intproxy's endpoint will serve. */
#include <netinet/in.h>
#include <string.h>
#include <sys/stat.h>

#include "common.h"
#include "config.h"
#include "fdtable.h"
#include "real.h"
#include "rpc.h"
#include "socket.h"

static bool nonblocking(int fd) {
  int fl = pl_real.fcntl(fd, F_GETFL);
  return fl >= 0 && (fl & O_NONBLOCK);
}

/* The entry of a TCP socket we relay, or NULL (stale entries — the number was reused — are dropped). */
static struct pl_fdobj *tracked_tcp(int fd) {
  struct pl_fdobj *o = pl_fd_get(fd);
  if (!o || o == &pl_layer_mark || o->kind != FDK_TCP) return NULL;
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_ino != o->ino) {
    pl_fd_forget(fd);
    return NULL;
  }
  return o;
}

/* connect() on a socket we already relay: what the kernel would answer. Returns the rc; errno set. */
static int connect_again(int fd, struct pl_fdobj *o) {
  pl_pending_lock();
  while (o->cstate == CS_PENDING || o->cstate == CS_SWITCHING) {
    /* (The switch takes microseconds, but it wakes pollers: a connect asked then waits for it.) */
    if (o->cstate == CS_PENDING && nonblocking(fd)) {
      pl_pending_unlock();
      errno = EALREADY;
      return -1;
    }
    pl_pending_wait(o, true); /* a blocking connect waits for the outcome, as the kernel's would */
  }
  if (o->cstate == CS_FAILED) {
    int err = o->cerr ? o->cerr : ECONNABORTED; /* SO_ERROR already took it: the kernel says so */
    pl_pending_unlock();
    int kernel_err;
    socklen_t l = sizeof kernel_err;
    pl_real.getsockopt(fd, SOL_SOCKET, SO_ERROR, &kernel_err, &l); /* the local refusal, consumed */
    pl_fd_forget(fd); /* like the kernel, the socket may now connect afresh */
    errno = err;
    return -1;
  }
  struct sockaddr_storage local = o->local;
  socklen_t local_len = o->local_len;
  pl_pending_unlock();
  return pl_real.connect(fd, (struct sockaddr *)&local, local_len);
}

static struct pl_fdobj *new_entry(int fd, int proto, const struct sockaddr *sa, socklen_t len) {
  struct pl_fdobj *o = pl_fd_new(proto == 1 ? FDK_TCP : FDK_UDP);
  if (!o) return NULL;
  memcpy(&o->peer, sa, len < sizeof o->peer ? len : sizeof o->peer);
  o->peer_len = len < sizeof o->peer ? len : sizeof o->peer;
  o->sock_family = sa->sa_family;
  o->pslot = -1;
  struct stat st;
  if (fstat(fd, &st) == 0) o->ino = st.st_ino;
  return o;
}

/* The blocking path (and the fallback when no background slot is free). */
static int connect_now(int fd, int proto, const pl_addr *remote, const pl_addr *source, const struct sockaddr *sa,
                       socklen_t len) {
  uint32_t conn = 0;
  struct sockaddr_storage local;
  socklen_t local_len = 0;
  int err = pl_open_remote(proto, remote, sa->sa_family, source, &conn, &local, &local_len);
  if (err) {
    pl_debug("connect: remote refused: errno %d", err);
    errno = err;
    return -1;
  }
  int rc = pl_real.connect(fd, (struct sockaddr *)&local, local_len);
  int e = errno;
  if (rc == 0 || e == EINPROGRESS || e == EINTR) {
    struct pl_fdobj *o = new_entry(fd, proto, sa, len);
    if (o) {
      o->connected = true;
      o->local = local;
      o->local_len = local_len;
      o->conn = conn;
      pl_fd_install(fd, o);
    }
    pl_debug("connect: fd %d -> remote via conn %u (rc %d)", fd, conn, rc);
  } else {
    pl_release_conn(conn); /* the endpoint will never be used: the intproxy closes the remote side now */
  }
  errno = e;
  return rc;
}

/* The common local connect, decided with nothing set up (bench/layer-overhead.ts): an untracked socket
 * to a unix path, or to 127.x (not port 53: a loopback nameserver of the target's resolv.conf is the
 * target's) while localhost stays local. Everything else, and the debug log, goes the slow way. */
static inline bool connect_fast_local(int fd, const struct sockaddr *sa, socklen_t len) {
  if (PL_UNLIKELY(__atomic_load_n(&pl_state, __ATOMIC_ACQUIRE) != PL_ACTIVE) || PL_UNLIKELY(pl_debug_on)) return false;
  if (pl_guard) return true;
  if (!sa || len < sizeof(struct sockaddr_in) || pl_fd_get(fd) != NULL) return false;
  if (sa->sa_family == AF_UNIX) return true;
  const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
  return sa->sa_family == AF_INET && ((const uint8_t *)&in->sin_addr)[0] == 127 && pl_cfg.ignore_localhost && in->sin_port != htons(53);
}

static __attribute__((noinline)) int connect_slow(int fd, const struct sockaddr *sa, socklen_t len);

PL_EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len) {
  if (PL_LIKELY(connect_fast_local(fd, sa, len))) return pl_real.connect(fd, sa, len);
  return connect_slow(fd, sa, len);
}

static int connect_slow(int fd, const struct sockaddr *sa, socklen_t len) {
  if (!pl_enter()) return pl_real.connect(fd, sa, len);
  int saved = errno;
  struct pl_fdobj *known = tracked_tcp(fd);
  if (known) {
    int rc = connect_again(fd, known);
    int e = errno;
    pl_leave();
    errno = rc == 0 ? saved : e;
    return rc;
  }
  pl_addr remote;
  enum pl_bypass why;
  int proto = 0;
  if (pl_remote_dest(sa, len, &remote, &why)) proto = pl_wanted_proto(pl_sock_type(fd), &why);
  if (!proto) {
    if (sa && sa->sa_family == AF_UNSPEC) pl_fd_forget(fd); /* UDP dissolves its association */
    pl_leave();
    pl_bypass("connect", why, "");
    errno = saved;
    return pl_real.connect(fd, sa, len);
  }
  pl_addr source;
  int err = pl_bound_source(fd, sa->sa_family, &source);
  if (err) {
    pl_leave();
    errno = err;
    return -1;
  }
  if (proto == 1 && nonblocking(fd)) {
    struct pl_fdobj *o = new_entry(fd, proto, sa, len);
    if (o) {
      pl_msg req;
      pl_connect_request(&req, proto, &remote, sa->sa_family, &source);
      o->cstate = CS_PENDING;
      pl_fd_install(fd, o);
      err = pl_pending_start(fd, o, &req);
      if (err == 0) {
        pl_debug("connect: fd %d in progress in the background", fd);
        pl_leave();
        errno = EINPROGRESS;
        return -1;
      }
      o->cstate = CS_CONNECTED;
      pl_fd_forget(fd);
      if (err != EAGAIN) {
        pl_leave();
        errno = err;
        return -1;
      }
    }
  }
  int rc = connect_now(fd, proto, &remote, &source, sa, len);
  int e = errno;
  pl_leave();
  errno = rc == 0 ? saved : e;
  return rc;
}

/* SO_ERROR of a socket connecting in the background: the target's errno, once; and never a value
 * from the instant the socket is moved from its placeholder to its endpoint. */
PL_EXPORT int getsockopt(int fd, int level, int name, void *restrict val, socklen_t *restrict len) {
  pl_ensure_init();
  struct pl_fdobj *o = pl_fd_get(fd);
  if (PL_LIKELY(!o) || level != SOL_SOCKET || name != SO_ERROR || o == &pl_layer_mark || o->kind != FDK_TCP ||
      o->cstate == CS_CONNECTED)
    return pl_real.getsockopt(fd, level, name, val, len);
  pl_pending_lock();
  while (o->cstate == CS_SWITCHING) pl_pending_wait(o, false);
  int rc = pl_real.getsockopt(fd, level, name, val, len);
  if (o->cstate == CS_FAILED && rc == 0 && val && len && *len >= sizeof(int)) {
    *(int *)val = o->cerr;
    o->cerr = 0;
  }
  pl_pending_unlock();
  return rc;
}
