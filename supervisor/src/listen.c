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
 *   close           the filter does not see close (notifying every close would cost every program), so
 *                   a watcher thread looks, twice a second, whether the process that listened still
 *                   holds each announced socket (its /proc/PID/fd); once it does not, Unlisten gives the
 *                   port back, as the layer's close does at once: the pod's app serves it again.
 *
 * Off unless PODLINK_INCOMING=1 (the filter notifies none of these calls then). Not here: listen_ports
 * (a served program binds the port it asks for). A listener handed to another process (SCM_RIGHTS, or
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
#define MAX_LISTENERS 64

/* Announced listeners, by socket inode, with the process that listened. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
  unsigned long ino;
  pid_t owner;
  struct sockaddr_storage local;
} announced[MAX_LISTENERS];

static bool find(unsigned long ino, struct sockaddr_storage *local) {
  pthread_mutex_lock(&mu);
  bool found = false;
  for (int i = 0; i < MAX_LISTENERS && !found; i++)
    if (announced[i].ino == ino) found = true, *local = announced[i].local;
  pthread_mutex_unlock(&mu);
  return found;
}

/* Gives back the ports of announced listeners their process no longer holds (see close, above). */
static void *watch(void *arg) {
  (void)arg;
  for (;;) {
    usleep(500 * 1000);
    for (int i = 0; i < MAX_LISTENERS; i++) {
      pthread_mutex_lock(&mu);
      unsigned long ino = announced[i].ino;
      pid_t owner = announced[i].owner;
      pthread_mutex_unlock(&mu);
      if (!ino || sup_find_socket(owner, ino) >= 0) continue;
      pl_msg req = {.type = PL_MSG_UNLISTEN};
      pthread_mutex_lock(&mu);
      bool same = announced[i].ino == ino; /* not reused meanwhile */
      if (same) pl_addr_of((struct sockaddr *)&announced[i].local, &req.u.unlisten.local), announced[i].ino = 0;
      pthread_mutex_unlock(&mu);
      if (!same) continue;
      pl_debug("supervisor: %d: listener (socket %lu) closed: port %u given back", owner, ino, req.u.unlisten.local.port);
      pl_rpc_send_only(&req);
    }
  }
  return NULL;
}

/* Remembers an announced listener (the first time: starts the watcher). With every slot taken, the
 * oldest is forgotten: its port then stays subscribed until the session ends. */
static void remember(unsigned long ino, pid_t owner, const struct sockaddr_storage *local) {
  static int next;
  static bool watching;
  pthread_mutex_lock(&mu);
  if (!watching) {
    pthread_t t;
    watching = pthread_create(&t, NULL, watch, NULL) == 0;
    if (watching) pthread_detach(t);
  }
  int at = next++ % MAX_LISTENERS;
  for (int i = 0; i < MAX_LISTENERS; i++)
    if (announced[i].ino == 0 || announced[i].ino == ino) {
      at = i;
      break;
    }
  announced[at].ino = ino;
  announced[at].owner = owner;
  announced[at].local = *local;
  pthread_mutex_unlock(&mu);
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
  uint16_t port = pl_sockaddr_port((struct sockaddr *)&ss);
  if (!port) return sup_reply(c, 0, 0); /* an ephemeral port: never announced */
  int r = pl_listen_announce((struct sockaddr *)&ss, port);
  pid_t owner = sup_tgid((pid_t)c->n.pid);
  if (r == 0) remember(c->ino, owner > 0 ? owner : (pid_t)c->n.pid, &ss);
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
