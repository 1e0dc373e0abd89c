/* Outgoing TCP and UDP. The user's socket stays a real kernel socket: a connect to a remote address
 * becomes Connect{proto, remote} to the intproxy, which opens the connection from the target and
 * answers with a loopback endpoint; the socket is really connected there. getpeername answers with the
 * remote. Unconnected UDP gets one relay per (socket, destination); recvfrom/recvmsg turn a relay's
 * source address back into the remote's. bind/listen/accept/getsockname pass through (incoming
 * traffic is not handled yet), so they are not hooked. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/stat.h>

#include "common.h"
#include "config.h"
#include "fdtable.h"
#include "real.h"
#include "rpc.h"

/* Is sa an outgoing destination the layer should handle? Fills a (IPv4-mapped IPv6 as family 4). */
static bool remote_dest(const struct sockaddr *sa, socklen_t len, pl_addr *a, enum pl_bypass *why) {
  memset(a, 0, sizeof *a);
  *why = BYPASS_NOT_INET;
  if (!sa || len < sizeof(sa_family_t)) return false;
  if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    a->family = 4;
    a->port = ntohs(in->sin_port);
    memcpy(a->ip, &in->sin_addr, 4);
  } else if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    a->port = ntohs(in6->sin6_port);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
      a->family = 4;
      memcpy(a->ip, &in6->sin6_addr.s6_addr[12], 4);
    } else {
      a->family = 6;
      memcpy(a->ip, &in6->sin6_addr, 16);
      if (IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr)) return *why = BYPASS_UNSPECIFIED_ADDR, false;
      if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) && pl_cfg.ignore_localhost) return *why = BYPASS_LOOPBACK, false;
      return true;
    }
  } else {
    return false;
  }
  if (!a->ip[0] && !a->ip[1] && !a->ip[2] && !a->ip[3]) return *why = BYPASS_UNSPECIFIED_ADDR, false;
  if (a->ip[0] == 127 && pl_cfg.ignore_localhost) return *why = BYPASS_LOOPBACK, false;
  return true;
}

/* The intproxy endpoint as a sockaddr the user's socket (of family fam) can connect or send to. */
static socklen_t endpoint(const pl_addr *a, int fam, struct sockaddr_storage *out) {
  memset(out, 0, sizeof *out);
  if (fam == AF_INET6) {
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(a->port);
    if (a->family == 6) {
      memcpy(&in6->sin6_addr, a->ip, 16);
    } else { /* ::ffff:a.b.c.d */
      in6->sin6_addr.s6_addr[10] = in6->sin6_addr.s6_addr[11] = 0xff;
      memcpy(&in6->sin6_addr.s6_addr[12], a->ip, 4);
    }
    return sizeof *in6;
  }
  if (a->family != 4) return 0; /* an AF_INET socket cannot reach an IPv6 endpoint */
  struct sockaddr_in *in = (struct sockaddr_in *)out;
  in->sin_family = AF_INET;
  in->sin_port = htons(a->port);
  memcpy(&in->sin_addr, a->ip, 4);
  return sizeof *in;
}

static bool same_sockaddr(const struct sockaddr *x, socklen_t xl, const struct sockaddr_storage *y, socklen_t yl) {
  if (x->sa_family != y->ss_family) return false;
  if (x->sa_family == AF_INET && xl >= sizeof(struct sockaddr_in) && yl >= sizeof(struct sockaddr_in)) {
    const struct sockaddr_in *a = (const void *)x, *b = (const void *)y;
    return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
  }
  if (x->sa_family == AF_INET6 && xl >= sizeof(struct sockaddr_in6) && yl >= sizeof(struct sockaddr_in6)) {
    const struct sockaddr_in6 *a = (const void *)x, *b = (const void *)y;
    return a->sin6_port == b->sin6_port && memcmp(&a->sin6_addr, &b->sin6_addr, 16) == 0;
  }
  return false;
}

/* Asks the intproxy for a connection. Returns 0 (conn and endpoint filled), or the errno to report. */
static int open_remote(int proto, const pl_addr *remote, int fam, uint32_t *conn, struct sockaddr_storage *local,
                       socklen_t *local_len) {
  pl_msg req = {.type = PL_MSG_CONNECT};
  req.u.connect.proto = (uint8_t)proto;
  req.u.connect.remote = *remote;
  req.u.connect.local_family = fam == AF_INET6 ? 6 : 4;
  struct pl_resp resp;
  int r = pl_rpc(&req, PL_MSG_CONNECTED, &resp);
  if (r == 0) {
    *conn = resp.msg.u.connected.conn;
    *local_len = endpoint(&resp.msg.u.connected.local, fam, local);
    if (!*local_len) r = EAFNOSUPPORT;
  }
  pl_resp_free(&resp);
  if (pl_rpc_gone(r)) return ECONNREFUSED;
  return r;
}

static void release_conn(uint32_t conn) {
  pl_msg req = {.type = PL_MSG_RELEASE};
  req.u.release.conn = conn;
  pl_rpc_send_only(&req);
}

/* Called when the last descriptor of a tracked socket closes. Silent (close path). */
void pl_socket_release(struct pl_fdobj *o) {
  if (o->kind != FDK_UDP) return; /* a TCP relay ends when the intproxy sees our socket close */
  if (o->connected) release_conn(o->conn);
  for (int i = 0; i < o->n_relays; i++) release_conn(o->relays[i].conn);
}

static int sock_type(int fd) {
  int type = -1;
  socklen_t len = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) return -1;
  return type;
}

/* 1 tcp, 2 udp, or 0 with *why when this socket type or feature is not handled. */
static int wanted_proto(int type, enum pl_bypass *why) {
  if (type == SOCK_STREAM) return pl_cfg.tcp ? 1 : (*why = BYPASS_FEATURE_OFF, 0);
  if (type == SOCK_DGRAM) return pl_cfg.udp ? 2 : (*why = BYPASS_FEATURE_OFF, 0);
  *why = BYPASS_SOCKET_TYPE;
  return 0;
}

PL_EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len) {
  if (!pl_enter()) return pl_real.connect(fd, sa, len);
  int saved = errno;
  pl_addr remote;
  enum pl_bypass why;
  int proto = 0;
  if (remote_dest(sa, len, &remote, &why)) proto = wanted_proto(sock_type(fd), &why);
  if (!proto) {
    if (sa && sa->sa_family == AF_UNSPEC) pl_fd_forget(fd); /* UDP dissolves its association */
    pl_leave();
    pl_bypass("connect", why, "");
    errno = saved;
    return pl_real.connect(fd, sa, len);
  }
  uint32_t conn = 0;
  struct sockaddr_storage local;
  socklen_t local_len = 0;
  int err = open_remote(proto, &remote, sa->sa_family, &conn, &local, &local_len);
  if (err) {
    pl_debug("connect: remote refused: errno %d", err);
    pl_leave();
    errno = err;
    return -1;
  }
  int rc = pl_real.connect(fd, (struct sockaddr *)&local, local_len);
  int e = errno;
  if (rc == 0 || e == EINPROGRESS || e == EINTR) {
    struct pl_fdobj *o = pl_fd_new(proto == 1 ? FDK_TCP : FDK_UDP);
    if (o) {
      o->connected = true;
      memcpy(&o->peer, sa, len < sizeof o->peer ? len : sizeof o->peer);
      o->peer_len = len < sizeof o->peer ? len : sizeof o->peer;
      o->local = local;
      o->local_len = local_len;
      o->conn = conn;
      o->sock_family = sa->sa_family;
      struct stat st;
      if (fstat(fd, &st) == 0) o->ino = st.st_ino;
      pl_fd_install(fd, o);
    }
    pl_debug("connect: fd %d -> remote via conn %u (rc %d)", fd, conn, rc);
  } else if (proto == 2) {
    release_conn(conn);
  }
  pl_leave();
  errno = rc == 0 ? saved : e;
  return rc;
}

PL_EXPORT int getpeername(int fd, struct sockaddr *restrict sa, socklen_t *restrict len) {
  pl_ensure_init();
  struct pl_fdobj *o = pl_fd_get(fd);
  if (PL_LIKELY(!o) || o == &pl_layer_mark || !o->connected) return pl_real.getpeername(fd, sa, len);
  /* The kernel's answer first: not connected (yet), or an fd that was reused behind our back. */
  struct sockaddr_storage real;
  socklen_t real_len = sizeof real;
  int rc = pl_real.getpeername(fd, (struct sockaddr *)&real, &real_len);
  if (rc != 0) return rc;
  if (!same_sockaddr((struct sockaddr *)&real, real_len, &o->local, o->local_len)) {
    pl_fd_forget(fd);
    return pl_real.getpeername(fd, sa, len);
  }
  if (!sa || !len) {
    errno = EFAULT;
    return -1;
  }
  memcpy(sa, &o->peer, *len < o->peer_len ? *len : o->peer_len);
  *len = o->peer_len;
  return 0;
}

/* The relay endpoint for datagrams from fd to `dest`. Returns 0 or an errno. Guard held. */
static int udp_relay(int fd, const struct sockaddr *dest, socklen_t dlen, const pl_addr *remote,
                     struct sockaddr_storage *local, socklen_t *local_len) {
  struct stat st;
  if (fstat(fd, &st) != 0) return errno;
  struct pl_fdobj *o = pl_fd_get(fd);
  if (o && (o == &pl_layer_mark || o->kind != FDK_UDP || o->ino != st.st_ino)) {
    if (o == &pl_layer_mark) return EBADF;
    pl_fd_forget(fd); /* stale: the number was reused */
    o = NULL;
  }
  if (!o) {
    int dom = 0;
    socklen_t dl = sizeof dom;
    if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &dl) != 0) return errno;
    if (!(o = pl_fd_new(FDK_UDP))) return ENOMEM;
    o->ino = st.st_ino;
    o->sock_family = dom;
    pl_fd_install(fd, o);
  }
  pl_fd_lock();
  for (int i = 0; i < o->n_relays; i++)
    if (same_sockaddr(dest, dlen, &o->relays[i].remote, o->relays[i].remote_len)) {
      *local = o->relays[i].local;
      *local_len = o->relays[i].local_len;
      pl_fd_unlock();
      return 0;
    }
  pl_fd_unlock();
  uint32_t conn;
  int err = open_remote(2, remote, o->sock_family, &conn, local, local_len);
  if (err) return err;
  pl_fd_lock();
  if (o->n_relays == PL_MAX_RELAYS) { /* forget the oldest destination */
    release_conn(o->relays[0].conn);
    memmove(&o->relays[0], &o->relays[1], sizeof o->relays[0] * (PL_MAX_RELAYS - 1));
    o->n_relays--;
  }
  struct pl_relay *r = &o->relays[o->n_relays++];
  memset(r, 0, sizeof *r);
  memcpy(&r->remote, dest, dlen < sizeof r->remote ? dlen : sizeof r->remote);
  r->remote_len = dlen < sizeof r->remote ? dlen : sizeof r->remote;
  r->local = *local;
  r->local_len = *local_len;
  r->conn = conn;
  pl_fd_unlock();
  pl_debug("sendto: fd %d new udp relay conn %u", fd, conn);
  return 0;
}

/* For sendto/sendmsg with a destination: 1 = use *local instead, 0 = bypass, -1 = failed (errno). */
static int route_datagram(const char *hook, int fd, const struct sockaddr *dest, socklen_t dlen,
                          struct sockaddr_storage *local, socklen_t *local_len) {
  pl_addr remote;
  enum pl_bypass why;
  if (!remote_dest(dest, dlen, &remote, &why) || (sock_type(fd) != SOCK_DGRAM && (why = BYPASS_SOCKET_TYPE)) ||
      (!pl_cfg.udp && (why = BYPASS_FEATURE_OFF))) {
    pl_bypass(hook, why, "");
    return 0;
  }
  int err = udp_relay(fd, dest, dlen, &remote, local, local_len);
  if (err) {
    errno = err;
    return -1;
  }
  return 1;
}

PL_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *dest, socklen_t dlen) {
  if (!dest || !pl_enter()) return pl_real.sendto(fd, buf, n, flags, dest, dlen);
  int saved = errno;
  struct sockaddr_storage local;
  socklen_t local_len;
  int d = route_datagram("sendto", fd, dest, dlen, &local, &local_len);
  pl_leave();
  if (d < 0) return -1;
  errno = saved;
  if (d == 0) return pl_real.sendto(fd, buf, n, flags, dest, dlen);
  return pl_real.sendto(fd, buf, n, flags, (struct sockaddr *)&local, local_len);
}

PL_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags) {
  if (!msg || !msg->msg_name || !pl_enter()) return pl_real.sendmsg(fd, msg, flags);
  int saved = errno;
  struct sockaddr_storage local;
  socklen_t local_len;
  int d = route_datagram("sendmsg", fd, msg->msg_name, msg->msg_namelen, &local, &local_len);
  pl_leave();
  if (d < 0) return -1;
  errno = saved;
  if (d == 0) return pl_real.sendmsg(fd, msg, flags);
  struct msghdr copy = *msg;
  copy.msg_name = &local;
  copy.msg_namelen = local_len;
  return pl_real.sendmsg(fd, &copy, flags);
}

/* A datagram that came from one of our relays is reported as coming from its remote. cap is the
 * size of src; *srclen holds the kernel's length of the source address. */
static void rewrite_source(struct pl_fdobj *o, struct sockaddr *src, socklen_t cap, socklen_t *srclen) {
  socklen_t got = *srclen < cap ? *srclen : cap;
  const struct sockaddr_storage *remote = NULL;
  socklen_t remote_len = 0;
  pl_fd_lock();
  if (o->connected && same_sockaddr(src, got, &o->local, o->local_len)) {
    remote = &o->peer;
    remote_len = o->peer_len;
  }
  for (int i = 0; i < o->n_relays && !remote; i++)
    if (same_sockaddr(src, got, &o->relays[i].local, o->relays[i].local_len)) {
      remote = &o->relays[i].remote;
      remote_len = o->relays[i].remote_len;
    }
  if (remote) {
    memcpy(src, remote, cap < remote_len ? cap : remote_len);
    *srclen = remote_len;
  }
  pl_fd_unlock();
}

PL_EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *src, socklen_t *srclen) {
  pl_ensure_init();
  struct pl_fdobj *o = pl_fd_get(fd);
  if (PL_LIKELY(!o) || o == &pl_layer_mark || o->kind != FDK_UDP || !src || !srclen)
    return pl_real.recvfrom(fd, buf, n, flags, src, srclen);
  socklen_t cap = *srclen;
  ssize_t r = pl_real.recvfrom(fd, buf, n, flags, src, srclen);
  if (r >= 0) {
    int e = errno;
    rewrite_source(o, src, cap, srclen);
    errno = e;
  }
  return r;
}

PL_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags) {
  pl_ensure_init();
  struct pl_fdobj *o = pl_fd_get(fd);
  if (PL_LIKELY(!o) || o == &pl_layer_mark || o->kind != FDK_UDP || !msg || !msg->msg_name)
    return pl_real.recvmsg(fd, msg, flags);
  socklen_t cap = msg->msg_namelen;
  ssize_t r = pl_real.recvmsg(fd, msg, flags);
  if (r >= 0) {
    int e = errno;
    rewrite_source(o, msg->msg_name, cap, &msg->msg_namelen);
    errno = e;
  }
  return r;
}
