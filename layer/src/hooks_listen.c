/* Incoming traffic: the app's listening sockets (bind, listen, accept, accept4, getsockname).
 *
 *   bind        a TCP socket: listen_ports may move it to another local port (the app keeps seeing the
 *               port it asked for through getsockname); the port asked for is remembered.
 *   listen      the real listen first (the socket accepts from now on), then Listen{local, port} to the
 *               intproxy, which subscribes the target's port (after port_mapping) and answers once
 *               the agent has. Port 0 (ephemeral) is never announced. A failure leaves the socket
 *               listening locally, as the app asked: the answer is only logged.
 *   accept*     a connection the intproxy delivered comes from a loopback address: IncomingPeer asks
 *               who the real client was, and getpeername (hooks_socket.c) and accept's own address
 *               then give that client. Local clients get ENOENT and stay what they are.
 *   close       of the last descriptor of an announced socket sends Unlisten (fdtable.c finalises).
 *
 * Everything here is off unless PODLINK_INCOMING=1. Before the set-up has ended these hooks pass
 * straight through (common.h, the start-up rule): pl_enter, or one fd-table load. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common.h"
#include "config.h"
#include "fdtable.h"
#include "incoming.h"
#include "real.h"
#include "rpc.h"
#include "socket.h"

/* The FDK_LISTEN entry of fd, dropping a stale one (the number was reused behind our back). */
static struct pl_fdobj *listen_entry(int fd, ino_t *ino) {
  struct stat st;
  if (fstat(fd, &st) != 0) return NULL;
  *ino = st.st_ino;
  struct pl_fdobj *o = pl_fd_get(fd);
  if (!o || o == &pl_layer_mark) return NULL;
  if (o->kind == FDK_LISTEN && o->ino == st.st_ino) return o;
  if (o->kind == FDK_LISTEN || o->ino != st.st_ino) pl_fd_forget(fd);
  return NULL;
}

PL_EXPORT int bind(int fd, const struct sockaddr *sa, socklen_t len) {
  if (!pl_enter()) return pl_real.bind(fd, sa, len);
  struct pl_fdobj *known = pl_fd_get(fd);
  /* Only the app's own TCP sockets: ours, and sockets the layer relays, are never touched. */
  if (!pl_cfg.incoming || !pl_inet_sockaddr(sa, len) || (known && known->kind != FDK_LISTEN) ||
      pl_sock_type(fd) != SOCK_STREAM) {
    pl_leave();
    return pl_real.bind(fd, sa, len);
  }
  int saved = errno;
  uint16_t port = pl_sockaddr_port(sa);
  uint16_t local = port ? pl_listen_local_port(port) : 0;
  int rc;
  if (local != port) {
    struct sockaddr_storage moved;
    memcpy(&moved, sa, len < sizeof moved ? len : sizeof moved);
    pl_sockaddr_set_port((struct sockaddr *)&moved, local);
    rc = pl_real.bind(fd, (struct sockaddr *)&moved, len);
    pl_debug("bind: fd %d port %u bound as %u (listen_ports)", fd, port, local);
  } else {
    rc = pl_real.bind(fd, sa, len);
  }
  int e = errno;
  if (rc == 0) {
    ino_t ino = 0;
    (void)listen_entry(fd, &ino);
    struct pl_fdobj *o = pl_fd_new(FDK_LISTEN);
    if (o) {
      o->ino = ino;
      o->app_port = port;
      o->sock_family = sa->sa_family;
      pl_fd_install(fd, o);
    }
  }
  pl_leave();
  errno = rc == 0 ? saved : e;
  return rc;
}

/* The socket is listening: tell the intproxy (once). Guard held. */
static void announce(int fd) {
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  if (pl_sock_type(fd) != SOCK_STREAM || pl_real.getsockname(fd, (struct sockaddr *)&ss, &sl) != 0 ||
      !pl_inet_sockaddr((struct sockaddr *)&ss, sl))
    return;
  ino_t ino = 0;
  struct pl_fdobj *o = listen_entry(fd, &ino);
  if (pl_fd_get(fd) == &pl_layer_mark || (o && o->announced)) return;
  /* No bind seen (inherited, or bound before our start): the port it has is the one it asked for. */
  uint16_t port = o ? o->app_port : pl_sockaddr_port((struct sockaddr *)&ss);
  if (!port) {
    pl_debug("listen: fd %d on an ephemeral port: not announced", fd);
    return;
  }
  if (!o) {
    if (!(o = pl_fd_new(FDK_LISTEN))) return;
    o->ino = ino;
    o->app_port = port;
    o->sock_family = ss.ss_family;
    pl_fd_install(fd, o);
  }
  o->local = ss;
  o->local_len = sl;
  int r = pl_listen_announce((struct sockaddr *)&ss, port);
  /* Announced = the intproxy delivers to it: only then does accept ask about peers. */
  o->announced = r == 0;
  pl_debug("listen: fd %d port %u: %s (%d)", fd, port, r == 0 ? "subscribed" : "stays local", r);
}

PL_EXPORT int listen(int fd, int backlog) {
  if (!pl_enter()) return pl_real.listen(fd, backlog);
  int saved = errno;
  int rc = pl_real.listen(fd, backlog);
  int e = errno;
  if (rc == 0 && pl_cfg.incoming) announce(fd);
  pl_leave();
  errno = rc == 0 ? saved : e;
  return rc;
}

/* Called by fdtable.c when the last descriptor of an announced listener closes. Silent (close path). */
void pl_listen_release(struct pl_fdobj *o) {
  pl_msg req = {.type = PL_MSG_UNLISTEN};
  pl_addr_of((struct sockaddr *)&o->local, &req.u.unlisten.local);
  pl_rpc_send_only(&req);
}

/* nfd was accepted from the announced listener lo: if the intproxy delivered it, remember its real
 * client and report that address through sa/len. Guard held. */
static void delivered(struct pl_fdobj *lo, int nfd, struct sockaddr *sa, socklen_t *len) {
  struct sockaddr_storage kpeer;
  socklen_t kl = sizeof kpeer;
  if (pl_real.getpeername(nfd, (struct sockaddr *)&kpeer, &kl) != 0 || !pl_inet_sockaddr((struct sockaddr *)&kpeer, kl)) return;
  pl_addr remote;
  if (pl_incoming_peer((struct sockaddr *)&kpeer, (struct sockaddr *)&lo->local, &remote) != 0) return; /* ENOENT: a local client */
  struct pl_fdobj *o = pl_fd_new(FDK_INCOMING);
  if (!o) return;
  struct stat st;
  if (fstat(nfd, &st) == 0) o->ino = st.st_ino;
  o->connected = true;
  o->local = kpeer; /* getpeername answers with peer only while the kernel still says this */
  o->local_len = kl;
  o->sock_family = lo->sock_family;
  o->peer_len = pl_endpoint(&remote, lo->sock_family, &o->peer);
  if (!o->peer_len) { /* an IPv6 client on an IPv4 socket: cannot be named */
    free(o);
    return;
  }
  pl_fd_install(nfd, o);
  if (sa && len) {
    memcpy(sa, &o->peer, *len < o->peer_len ? *len : o->peer_len);
    *len = o->peer_len;
  }
  pl_debug("accept: fd %d delivered by the intproxy", nfd);
}

static int after_accept(int lfd, int nfd, struct sockaddr *sa, socklen_t *len) {
  struct pl_fdobj *lo = pl_fd_get(lfd);
  if (PL_LIKELY(!lo) || nfd < 0 || lo == &pl_layer_mark || lo->kind != FDK_LISTEN || !lo->announced) return nfd;
  int saved = errno;
  if (pl_enter()) {
    delivered(lo, nfd, sa, len);
    pl_leave();
  }
  errno = saved;
  return nfd;
}

PL_EXPORT int accept(int fd, struct sockaddr *restrict sa, socklen_t *restrict len) {
  pl_ensure_init();
  return after_accept(fd, pl_real.accept(fd, sa, len), sa, len);
}

PL_EXPORT int accept4(int fd, struct sockaddr *restrict sa, socklen_t *restrict len, int flags) {
  pl_ensure_init();
  return after_accept(fd, pl_real.accept4(fd, sa, len, flags), sa, len);
}

/* listen_ports: a listener bound to another local port still shows the port the app asked for. The
 * layer's own calls (guard held) see the kernel's answer. */
PL_EXPORT int getsockname(int fd, struct sockaddr *restrict sa, socklen_t *restrict len) {
  pl_ensure_init();
  struct pl_fdobj *o = pl_fd_get(fd);
  int rc = pl_real.getsockname(fd, sa, len);
  if (PL_LIKELY(!o) || rc != 0 || pl_guard || o == &pl_layer_mark || o->kind != FDK_LISTEN || !sa || !len ||
      !pl_inet_sockaddr(sa, *len) || !o->app_port)
    return rc;
  uint16_t real = pl_sockaddr_port(sa);
  if (real != o->app_port && real == pl_listen_local_port(o->app_port)) pl_sockaddr_set_port(sa, o->app_port);
  return rc;
}
