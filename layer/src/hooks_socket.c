/* Outgoing datagrams and what the app learns about a relayed socket: getpeername answers with the
 * remote; unconnected UDP gets one relay per (socket, destination) for sendto/sendmsg, and
 * recvfrom/recvmsg turn a relay's source address back into the remote's. connect is in connect.c;
 * bind/listen/accept/getsockname (incoming traffic) are in hooks_listen.c, and getpeername here also
 * answers for the connections the intproxy delivered to a listener (FDK_INCOMING entries). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/stat.h>

#include "common.h"
#include "config.h"
#include "fdtable.h"
#include "real.h"
#include "rpc.h"
#include "socket.h"

PL_EXPORT int getpeername(int fd, struct sockaddr *restrict sa, socklen_t *restrict len) {
  pl_ensure_init();
  struct pl_fdobj *o = pl_fd_get(fd);
  if (PL_LIKELY(!o) || o == &pl_layer_mark || !o->connected) return pl_real.getpeername(fd, sa, len);
  /* (A TCP socket still connecting in the background is a placeholder: the kernel says ENOTCONN.) */
  /* The kernel's answer first: not connected (yet), or an fd that was reused behind our back. */
  struct sockaddr_storage real;
  socklen_t real_len = sizeof real;
  int rc = pl_real.getpeername(fd, (struct sockaddr *)&real, &real_len);
  if (rc != 0) return rc;
  if (!pl_same_sockaddr((struct sockaddr *)&real, real_len, &o->local, o->local_len)) {
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
    if (pl_same_sockaddr(dest, dlen, &o->relays[i].remote, o->relays[i].remote_len)) {
      *local = o->relays[i].local;
      *local_len = o->relays[i].local_len;
      pl_fd_unlock();
      return 0;
    }
  pl_fd_unlock();
  uint32_t conn;
  pl_addr source;
  int err = pl_bound_source(fd, o->sock_family, &source);
  if (!err) err = pl_open_remote(2, remote, o->sock_family, &source, &conn, local, local_len);
  if (err) return err;
  pl_fd_lock();
  if (o->n_relays == PL_MAX_RELAYS) { /* forget the oldest destination */
    pl_release_conn(o->relays[0].conn);
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
  if (!pl_remote_dest(dest, dlen, &remote, &why) || (pl_sock_type(fd) != SOCK_DGRAM && (why = BYPASS_SOCKET_TYPE)) ||
      (!pl_cfg.udp && (why = BYPASS_FEATURE_OFF))) {
    pl_bypass(hook, why, "");
    return 0;
  }
  if (remote.port == 0) { /* what the kernel says to a datagram for port 0 */
    errno = EINVAL;
    return -1;
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
  if (o->connected && pl_same_sockaddr(src, got, &o->local, o->local_len)) {
    remote = &o->peer;
    remote_len = o->peer_len;
  }
  for (int i = 0; i < o->n_relays && !remote; i++)
    if (pl_same_sockaddr(src, got, &o->relays[i].local, o->relays[i].local_len)) {
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
