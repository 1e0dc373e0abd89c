/* Outgoing connections: connect, getpeername, getsockopt(SO_ERROR), and the table of sockets the
 * supervisor connected. Decided by the layer's own socket.c (pl_remote_dest: which destinations are
 * remote; pl_bound_source, pl_open_remote: the Connect request), answered with the kernel's semantics:
 *
 *   blocking socket        Connect → Connected → our copy of the program's socket (pidfd_getfd) connects
 *                          to the endpoint: the same socket, so options and epoll registrations survive
 *   non-blocking TCP       EINPROGRESS at once, completed in the background (nbconnect.c)
 *   UDP                    connected to its relay endpoint, like a blocking socket
 *   getpeername            the remote as the program gave it, once the kernel confirms the socket is
 *                          connected where we connected it
 *   SO_ERROR, connect      after a failed background connect: the target's errno, once
 *
 * Sockets are known by inode (sup_sock). The table forgets sockets that no longer exist when it grows
 * (sup_socks_gc reads /proc/net/{tcp,udp}{,6}), releasing their UDP relays in the intproxy. */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "config.h"
#include "rpc.h"
#include "socket.h"
#include "sup.h"

#define A(i) (c->n.data.args[i])

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct sup_sock *table;
static size_t cap, used, gc_at = 256;
/* Relays made since the last collection: each holds a socket in the intproxy and the agent until the
 * program's socket is found gone (Go opens a UDP socket per DNS query). */
static size_t relays_since_gc;

void sup_socks_lock(void) { pthread_mutex_lock(&mu); }
void sup_socks_unlock(void) { pthread_mutex_unlock(&mu); }

static struct sup_sock *slot(struct sup_sock *t, size_t n, unsigned long ino) {
  for (size_t i = (ino * 2654435761u) & (n - 1);; i = (i + 1) & (n - 1))
    if (t[i].ino == ino || t[i].ino == 0) return &t[i];
}

static bool grow(void) {
  size_t n = cap ? cap * 2 : 256;
  struct sup_sock *t = calloc(n, sizeof *t);
  if (!t) return false;
  for (size_t i = 0; i < cap; i++)
    if (table[i].ino) *slot(t, n, table[i].ino) = table[i];
  free(table);
  table = t;
  cap = n;
  return true;
}

struct sup_sock *sup_sock(unsigned long ino, bool create) {
  if (!ino || (!cap && !create)) return NULL;
  if (create && (used + 1) * 2 > cap && !grow()) return NULL;
  struct sup_sock *s = slot(table, cap, ino);
  if (s->ino) return s;
  if (!create) return NULL;
  memset(s, 0, sizeof *s);
  s->ino = ino;
  used++;
  return s;
}

/* Inodes of the sockets that exist in this network namespace. */
static size_t live_inodes(unsigned long **out) {
  static const char *const files[] = {"/proc/net/tcp", "/proc/net/tcp6", "/proc/net/udp", "/proc/net/udp6"};
  size_t n = 0, room = 1024;
  unsigned long *v = malloc(room * sizeof *v);
  for (size_t f = 0; v && f < sizeof files / sizeof files[0]; f++) {
    FILE *fp = fopen(files[f], "re");
    if (!fp) continue;
    char line[512];
    if (!fgets(line, sizeof line, fp)) line[0] = '\0'; /* header */
    while (fgets(line, sizeof line, fp)) {
      unsigned long ino;
      /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
      if (sscanf(line, "%*s %*s %*s %*s %*s %*s %*s %*s %*s %lu", &ino) != 1) continue;
      if (n == room) {
        unsigned long *g = realloc(v, (room *= 2) * sizeof *v);
        if (!g) break;
        v = g;
      }
      v[n++] = ino;
    }
    fclose(fp);
  }
  *out = v;
  return v ? n : 0;
}

static bool has(const unsigned long *v, size_t n, unsigned long ino) {
  for (size_t i = 0; i < n; i++)
    if (v[i] == ino) return true;
  return false;
}

void sup_socks_gc(void) {
  unsigned long *live;
  size_t n_live = live_inodes(&live);
  if (!live) return;
  uint32_t dead[256];
  size_t n_dead = 0;
  sup_socks_lock();
  struct sup_sock *old = table;
  size_t old_cap = cap;
  table = NULL, cap = used = 0;
  for (size_t i = 0; i < old_cap; i++) {
    struct sup_sock *e = &old[i];
    if (!e->ino) continue;
    if (has(live, n_live, e->ino)) {
      struct sup_sock *s = sup_sock(e->ino, true);
      if (s) *s = *e;
      continue;
    }
    if (e->conn && n_dead < 256) dead[n_dead++] = e->conn;
    for (int r = 0; r < e->n_relays && n_dead < 256; r++) dead[n_dead++] = e->relays[r].conn;
  }
  gc_at = used * 2 > 256 ? used * 2 : 256;
  relays_since_gc = 0;
  sup_socks_unlock();
  free(old);
  free(live);
  for (size_t i = 0; i < n_dead; i++) pl_release_conn(dead[i]);
  pl_debug("supervisor: socket table: %u live, %u relays released", (unsigned)used, (unsigned)n_dead);
}

void sup_socks_gc_maybe(bool relay) {
  sup_socks_lock();
  if (relay) relays_since_gc++;
  bool due = used >= gc_at || relays_since_gc >= 64;
  if (due) relays_since_gc = 0, gc_at = (size_t)-1; /* this caller collects; the others go on */
  sup_socks_unlock();
  if (due) sup_socks_gc();
}

int sup_sock_proto(unsigned long ino) {
  sup_socks_lock();
  struct sup_sock *s = sup_sock(ino, false);
  int proto = s ? s->proto : 0;
  sup_socks_unlock();
  return proto;
}

int sup_sock_family(int fd) {
  int fam = 0;
  socklen_t len = sizeof fam;
  return getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &fam, &len) == 0 ? fam : -1;
}

int sup_read_addr(struct sup_call *c, uint64_t addr, uint64_t len) {
  if (!addr || len < sizeof(sa_family_t) || len > sizeof c->sa) return 0;
  int r = sup_read((pid_t)c->n.pid, addr, &c->sa, (size_t)len);
  if (r == EPERM) {
    sup_cannot_read((pid_t)c->n.pid);
    return -1;
  }
  c->sa_len = (socklen_t)len;
  return r == 0 && (c->sa.ss_family == AF_INET || c->sa.ss_family == AF_INET6);
}

/* Might deciding this destination need the target's resolv.conf (an RPC)? Then a worker decides. */
bool sup_maybe_nameserver(const struct sockaddr_storage *sa) {
  if (!pl_cfg.dns) return false;
  if (sa->ss_family == AF_INET) {
    const struct sockaddr_in *in = (const void *)sa;
    return ntohs(in->sin_port) == 53 && (ntohl(in->sin_addr.s_addr) >> 24) == 127;
  }
  const struct sockaddr_in6 *in6 = (const void *)sa;
  return ntohs(in6->sin6_port) == 53 && (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) || IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr));
}

bool sup_remote_dest(struct sup_call *c) {
  enum pl_bypass why;
  return pl_remote_dest((const struct sockaddr *)&c->sa, c->sa_len, &c->dest, &why);
}

/* Which relay protocol a socket of this type gets to c->dest: 1 tcp, 2 udp, 0 none. DNS queries to the
 * target's nameservers are relayed whenever remote DNS is on (resolvers read the target's resolv.conf). */
int sup_wanted(struct sup_call *c, int fd) {
  enum pl_bypass why;
  int type = pl_sock_type(fd);
  int proto = pl_wanted_proto(type, &why);
  if (!proto && type == SOCK_DGRAM && pl_cfg.dns && c->dest.port == 53 && pl_target_nameserver(&c->dest)) proto = 2;
  return proto;
}

static void connect_remote(struct sup_call *c) {
  if (!sup_remote_dest(c)) return sup_continue(c); /* decided here when it needed the resolv.conf */
  int fd = sup_getfd((pid_t)c->n.pid, (int)A(0));
  if (fd < 0) return sup_reply(c, 0, -fd);
  c->fd = fd;
  int proto = sup_wanted(c, fd);
  if (!proto || (proto == 2 && c->dest.port == 0)) return sup_continue(c);
  int fam = sup_sock_family(fd);
  if (proto == 1 && (fcntl(fd, F_GETFL) & O_NONBLOCK)) return sup_nb_connect(c, fd, &c->dest, &c->sa, c->sa_len);
  pl_addr src;
  int err = pl_bound_source(fd, fam, &src);
  uint32_t conn = 0;
  struct sockaddr_storage ep;
  socklen_t ep_len = 0;
  if (!err) err = pl_open_remote(proto, &c->dest, fam, &src, &conn, &ep, &ep_len);
  if (!err && connect(fd, (struct sockaddr *)&ep, ep_len) != 0) {
    err = errno;
    pl_release_conn(conn);
  }
  if (err) return sup_reply(c, 0, err);
  uint32_t stale = 0;
  sup_socks_lock();
  struct sup_sock *s = sup_sock(c->ino, true);
  if (s) {
    stale = s->conn;
    s->proto = proto, s->state = SUP_CONNECTED, s->err = 0, s->abort_next = false;
    s->peer = c->sa, s->peer_len = c->sa_len, s->local = ep, s->local_len = ep_len;
    s->conn = proto == 2 ? conn : 0; /* a TCP connection ends when the socket closes */
  }
  sup_socks_unlock();
  if (stale) pl_release_conn(stale);
  pl_debug("supervisor: %d: connect fd %d to a remote through the intproxy (conn %u)", c->n.pid, (int)A(0), conn);
  sup_reply(c, 0, 0);
  sup_socks_gc_maybe(proto == 2);
}

/* The kernel still holds ECONNRESET from our disconnect: clear it, answer the target's errno. */
static void report_failure(struct sup_call *c) {
  int fd = sup_getfd((pid_t)c->n.pid, (int)A(0));
  if (fd >= 0) {
    int e;
    socklen_t l = sizeof e;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l);
    close(fd);
  }
  if (c->n.data.nr == SYS_connect) return sup_reply(c, 0, c->flags);
  int e = c->flags;
  socklen_t len = sizeof e;
  int w = sup_write((pid_t)c->n.pid, A(3), &e, sizeof e) | sup_write((pid_t)c->n.pid, A(4), &len, sizeof len);
  sup_reply(c, 0, w ? EFAULT : 0);
}

/* A failed background connect of this socket not reported yet: its errno (now reported), else 0. The
 * kernel's order: the first of SO_ERROR or connect gets the errno; a connect after SO_ERROR took it gets
 * ECONNABORTED; then the socket may connect afresh. */
static int take_failure(unsigned long ino, bool by_connect, int *state) {
  sup_socks_lock();
  struct sup_sock *s = sup_sock(ino, false);
  int err = 0;
  *state = s ? s->state : -1;
  if (s && s->state == SUP_FAILED) {
    err = s->err;
    if (err) {
      s->err = 0;
      s->abort_next = !by_connect;
    } else if (by_connect && s->abort_next) {
      err = ECONNABORTED;
      s->abort_next = false;
    }
    if (by_connect) s->state = SUP_NONE; /* the next connect is a new one */
  }
  sup_socks_unlock();
  return err;
}

void sup_on_connect(struct sup_call *c) {
  int r = sup_read_addr(c, A(1), A(2));
  if (r <= 0) return r < 0 ? sup_reply(c, 0, EPERM) : sup_continue(c);
  bool ask = sup_maybe_nameserver(&c->sa);
  if (!ask && !sup_remote_dest(c)) return sup_continue(c);
  c->ino = sup_socket_ino((pid_t)c->n.pid, (int)A(0));
  if (!c->ino) return sup_continue(c);
  int state;
  int err = take_failure(c->ino, true, &state);
  if (err) return c->flags = err, sup_defer(c, report_failure);
  /* TCP in progress or done: the kernel says EALREADY, 0 once, EISCONN (or a blocking one waits) */
  if (state == SUP_PENDING || (state == SUP_CONNECTED && sup_sock_proto(c->ino) == 1)) return sup_continue(c);
  sup_defer(c, connect_remote);
}

void sup_on_getpeername(struct sup_call *c) {
  c->ino = sup_socket_ino((pid_t)c->n.pid, (int)A(0));
  sup_socks_lock();
  struct sup_sock *s = sup_sock(c->ino, false);
  bool ours = s && s->state == SUP_CONNECTED;
  struct sockaddr_storage peer, local;
  socklen_t peer_len = 0, local_len = 0;
  if (ours) peer = s->peer, peer_len = s->peer_len, local = s->local, local_len = s->local_len;
  sup_socks_unlock();
  if (!ours) return sup_continue(c);
  /* Only while the socket really is connected where we connected it (else the kernel answers). */
  int fd = sup_getfd((pid_t)c->n.pid, (int)A(0));
  struct sockaddr_storage real;
  socklen_t real_len = sizeof real;
  bool same = fd >= 0 && getpeername(fd, (struct sockaddr *)&real, &real_len) == 0 &&
              pl_same_sockaddr((struct sockaddr *)&real, real_len, &local, local_len);
  if (fd >= 0) close(fd);
  if (!same) return sup_continue(c);
  socklen_t room;
  pid_t tid = (pid_t)c->n.pid;
  if (sup_read(tid, A(2), &room, sizeof room)) return sup_reply(c, 0, EFAULT);
  if ((int)room < 0) return sup_reply(c, 0, EINVAL);
  size_t n = room < peer_len ? room : peer_len;
  int w = sup_write(tid, A(1), &peer, n) | sup_write(tid, A(2), &peer_len, sizeof peer_len);
  sup_reply(c, 0, w ? EFAULT : 0);
}

void sup_on_so_error(struct sup_call *c) {
  c->ino = sup_socket_ino((pid_t)c->n.pid, (int)A(0));
  int state;
  int err = c->ino ? take_failure(c->ino, false, &state) : 0;
  if (!err) return sup_continue(c);
  socklen_t room;
  if (sup_read((pid_t)c->n.pid, A(4), &room, sizeof room) || room < sizeof(int)) return sup_continue(c);
  c->flags = err;
  sup_defer(c, report_failure);
}
