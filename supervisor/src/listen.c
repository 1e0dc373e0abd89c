/* Incoming traffic for served programs: what the layer's hooks_listen.c does, by notification.
 *
 *   listen          a worker listens on our copy of the program's socket (pidfd_getfd: the same socket),
 *                   then, for a TCP socket on a port the program chose, sends Listen{local, port} and
 *                   returns once the agent has subscribed the port — the layer's order. A failure leaves
 *                   the socket listening locally, as the program asked.
 *   accept, accept4 on an announced listener, the worker accepts on our copy (the file's O_NONBLOCK is
 *                   the program's), asks IncomingPeer who a loopback client really is (the intproxy
 *                   delivers from loopback), writes that client into the program's address argument and
 *                   installs the new descriptor as the call's result (ADDFD+SEND, CLOEXEC as asked);
 *                   getpeername then answers the client too (the socket table, net.c). On a blocking
 *                   listener with nothing pending the kernel does the waiting (the call continues), and
 *                   such a connection shows its loopback address.
 *
 *   bind            with listen_ports only: a TCP bind to a mapped port is done on our copy with the
 *                   local port, and getsockname then shows the port asked for (as the layer does);
 *                   Listen carries that port.
 *   close           the filter does not see close (notifying every close would cost every program), so
 *                   a watcher thread looks, twice a second, whether the process that listened still
 *                   holds each announced socket (its /proc/PID/fd); once it does not, Unlisten gives the
 *                   port back, as the layer's close does at once: the pod's app serves it again.
 *
 * Off unless PODLINK_INCOMING=1 (the filter notifies none of these calls then). A listener handed to another process (SCM_RIGHTS, or
 * inherited without CLOEXEC) counts as closed once its first owner lets it go. */
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "config.h"
#include "incoming.h"
#include "rpc.h"
#include "socket.h"
#include "sup.h"

#define A(i) (c->n.data.args[i])
#define MAX_SOCKETS 64

/* Sockets by inode, with the process that made them: listeners announced to the intproxy, and (with
 * listen_ports) sockets bound to another port than the program asked for, from bind on. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
  unsigned long ino;
  pid_t owner;
  uint16_t app_port; /* listen_ports: the port the program asked for (0: its own) */
  bool announced;
  struct sockaddr_storage local;
} slots[MAX_SOCKETS];

/* An announced listener's local address. */
static bool find(unsigned long ino, struct sockaddr_storage *local) {
  pthread_mutex_lock(&mu);
  bool found = false;
  for (int i = 0; i < MAX_SOCKETS && !found; i++)
    if (slots[i].ino == ino && slots[i].announced) found = true, *local = slots[i].local;
  pthread_mutex_unlock(&mu);
  return found;
}

/* The port the program asked for when listen_ports moved the socket's bind, else 0. */
static uint16_t app_port(unsigned long ino) {
  pthread_mutex_lock(&mu);
  uint16_t port = 0;
  for (int i = 0; i < MAX_SOCKETS && !port; i++)
    if (slots[i].ino == ino) port = slots[i].app_port;
  pthread_mutex_unlock(&mu);
  return port;
}

/* Forgets the sockets their process no longer holds, giving back the ports of announced ones (see
 * close, above). */
static void *watch(void *arg) {
  (void)arg;
  for (;;) {
    usleep(500 * 1000);
    for (int i = 0; i < MAX_SOCKETS; i++) {
      pthread_mutex_lock(&mu);
      unsigned long ino = slots[i].ino;
      pid_t owner = slots[i].owner;
      pthread_mutex_unlock(&mu);
      if (!ino || sup_find_socket(owner, ino) >= 0) continue;
      pl_msg req = {.type = PL_MSG_UNLISTEN};
      pthread_mutex_lock(&mu);
      bool same = slots[i].ino == ino, give_back = same && slots[i].announced; /* not reused meanwhile */
      if (give_back) pl_addr_of((struct sockaddr *)&slots[i].local, &req.u.unlisten.local);
      if (same) slots[i].ino = 0;
      pthread_mutex_unlock(&mu);
      if (!give_back) continue;
      pl_debug("supervisor: %d: listener (socket %lu) closed: port %u given back", owner, ino, req.u.unlisten.local.port);
      pl_rpc_send_only(&req);
    }
  }
  return NULL;
}

/* Records a socket (the first time: starts the watcher): moved by listen_ports at bind (app_port), or
 * announced at listen (local). With every slot taken, the oldest is forgotten: its port then stays
 * subscribed until the session ends. */
static void remember(unsigned long ino, pid_t owner, uint16_t app, const struct sockaddr_storage *local) {
  static int next;
  static bool watching;
  pthread_mutex_lock(&mu);
  if (!watching) {
    pthread_t t;
    watching = pthread_create(&t, NULL, watch, NULL) == 0;
    if (watching) pthread_detach(t);
  }
  int at = next++ % MAX_SOCKETS;
  for (int i = 0; i < MAX_SOCKETS; i++)
    if (slots[i].ino == ino) {
      at = i;
      break;
    } else if (slots[i].ino == 0) {
      at = i;
    }
  if (slots[at].ino != ino) slots[at].app_port = 0, slots[at].announced = false;
  slots[at].ino = ino;
  slots[at].owner = owner;
  if (app) slots[at].app_port = app;
  if (local) slots[at].local = *local, slots[at].announced = true;
  pthread_mutex_unlock(&mu);
}

static pid_t owner_of(struct sup_call *c) {
  pid_t owner = sup_tgid((pid_t)c->n.pid);
  return owner > 0 ? owner : (pid_t)c->n.pid;
}

/* listen_ports: a TCP bind to a mapped port is done on our copy of the socket with the local port. */
void sup_on_bind(struct sup_call *c) {
  int r = sup_read_addr(c, A(1), A(2));
  if (r <= 0) return r < 0 ? sup_reply(c, 0, EPERM) : sup_continue(c);
  uint16_t port = pl_sockaddr_port((struct sockaddr *)&c->sa), local = port ? pl_listen_local_port(port) : 0;
  if (local == port || !(c->ino = sup_socket_ino((pid_t)c->n.pid, (int)A(0)))) return sup_continue(c);
  int fd = sup_getfd((pid_t)c->n.pid, (int)A(0));
  if (fd < 0 || pl_sock_type(fd) != SOCK_STREAM) {
    if (fd >= 0) close(fd);
    return sup_continue(c);
  }
  pl_sockaddr_set_port((struct sockaddr *)&c->sa, local);
  int rc = bind(fd, (struct sockaddr *)&c->sa, c->sa_len), err = errno;
  close(fd);
  pl_debug("supervisor: %d: bind fd %d port %u as %u (listen_ports): %d", c->n.pid, (int)A(0), port, local, rc ? err : 0);
  if (rc == 0) remember(c->ino, owner_of(c), port, NULL);
  sup_reply(c, 0, rc == 0 ? 0 : err);
}

/* A socket listen_ports moved shows the port the program asked for, as in the layer. */
void sup_on_getsockname(struct sup_call *c) {
  c->ino = sup_socket_ino((pid_t)c->n.pid, (int)A(0));
  uint16_t app = c->ino ? app_port(c->ino) : 0;
  int fd = app ? sup_getfd((pid_t)c->n.pid, (int)A(0)) : -1;
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  bool ok = fd >= 0 && getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 && pl_inet_sockaddr((struct sockaddr *)&ss, sl) &&
            pl_sockaddr_port((struct sockaddr *)&ss) == pl_listen_local_port(app);
  if (fd >= 0) close(fd);
  if (!ok) return sup_continue(c);
  pl_sockaddr_set_port((struct sockaddr *)&ss, app);
  pid_t tid = (pid_t)c->n.pid;
  socklen_t room;
  if (sup_read(tid, A(2), &room, sizeof room)) return sup_reply(c, 0, EFAULT);
  if ((int)room < 0) return sup_reply(c, 0, EINVAL);
  int w = sup_write(tid, A(1), &ss, room < sl ? room : sl) | sup_write(tid, A(2), &sl, sizeof sl);
  sup_reply(c, 0, w ? EFAULT : 0);
}

static void do_listen(struct sup_call *c) {
  int fd = sup_getfd((pid_t)c->n.pid, (int)A(0));
  if (fd < 0) return sup_reply(c, 0, -fd);
  c->fd = fd;
  if (pl_sock_type(fd) != SOCK_STREAM) return sup_continue(c);
  if (listen(fd, (int)A(1)) != 0) return sup_reply(c, 0, errno);
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  struct sockaddr_storage known;
  if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0 || !pl_inet_sockaddr((struct sockaddr *)&ss, sl) ||
      find(c->ino, &known))
    return sup_reply(c, 0, 0);
  uint16_t port = app_port(c->ino);
  if (!port) port = pl_sockaddr_port((struct sockaddr *)&ss);
  if (!port) return sup_reply(c, 0, 0); /* an ephemeral port: never announced */
  int r = pl_listen_announce((struct sockaddr *)&ss, port);
  if (r == 0) remember(c->ino, owner_of(c), 0, &ss);
  pl_debug("supervisor: %d: listen fd %d port %u: %s (%d)", c->n.pid, (int)A(0), port, r == 0 ? "subscribed" : "stays local", r);
  sup_reply(c, 0, 0);
}

void sup_on_listen(struct sup_call *c) {
  c->ino = sup_socket_ino((pid_t)c->n.pid, (int)A(0));
  if (!c->ino) return sup_continue(c);
  sup_defer(c, do_listen);
}

static unsigned long ino_of(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 ? (unsigned long)st.st_ino : 0;
}

/* Our accepted connection nfd: the client the program sees, written into its address arguments. */
static int tell_client(struct sup_call *c, int nfd, const struct sockaddr_storage *listener) {
  struct sockaddr_storage peer;
  socklen_t peer_len = sizeof peer;
  if (getpeername(nfd, (struct sockaddr *)&peer, &peer_len) != 0) return 0;
  struct sockaddr_storage kpeer = peer;
  socklen_t kpeer_len = peer_len;
  pl_addr remote;
  if (pl_inet_sockaddr((struct sockaddr *)&peer, peer_len) &&
      pl_incoming_peer((struct sockaddr *)&peer, (const struct sockaddr *)listener, &remote) == 0) {
    socklen_t n = pl_endpoint(&remote, listener->ss_family, &peer);
    if (n) {
      peer_len = n;
      sup_socks_lock();
      struct sup_sock *s = sup_sock(ino_of(nfd), true);
      if (s) s->proto = 1, s->state = SUP_CONNECTED, s->peer = peer, s->peer_len = peer_len, s->local = kpeer, s->local_len = kpeer_len;
      sup_socks_unlock();
    } else {
      peer = kpeer; /* an IPv6 client on an IPv4 socket cannot be named */
    }
  }
  if (!A(1)) return 0;
  pid_t tid = (pid_t)c->n.pid;
  socklen_t room;
  if (sup_read(tid, A(2), &room, sizeof room)) return EFAULT;
  if ((int)room < 0) return EINVAL;
  return sup_write(tid, A(1), &peer, room < peer_len ? room : peer_len) | sup_write(tid, A(2), &peer_len, sizeof peer_len) ? EFAULT : 0;
}

static void do_accept(struct sup_call *c) {
  int flags = c->n.data.nr == SYS_accept4 ? (int)A(3) : 0;
  int nfd = accept4(c->fd, NULL, NULL, (flags & SOCK_NONBLOCK) | SOCK_CLOEXEC);
  if (nfd < 0) return sup_reply(c, 0, errno);
  int err = tell_client(c, nfd, &c->sa);
  if (err) {
    close(nfd);
    return sup_reply(c, 0, err);
  }
  sup_reply_fd(c, nfd, flags & SOCK_CLOEXEC);
}

void sup_on_accept(struct sup_call *c) {
  c->ino = sup_socket_ino((pid_t)c->n.pid, (int)A(0));
  if (!c->ino || !find(c->ino, &c->sa)) return sup_continue(c);
  int fd = sup_getfd((pid_t)c->n.pid, (int)A(0));
  if (fd < 0) return sup_continue(c);
  c->fd = fd;
  /* A blocking listener with nothing to accept: the kernel waits, in the program's thread. */
  struct pollfd p = {fd, POLLIN, 0};
  if (!(fcntl(fd, F_GETFL) & O_NONBLOCK) && poll(&p, 1, 0) != 1) return sup_continue(c);
  sup_defer(c, do_accept);
}
