/* A non-blocking TCP connect, kernel-exact without a single hook in the program's poll loop.
 *
 * The program's socket C really starts connecting — to a loopback port s that we reserve (a bound,
 * never-listening socket R) — with a socket filter on C that drops every packet it would receive, so
 * the RSTs answering its SYNs never arrive: C simply stays in SYN_SENT, as towards a slow remote.
 * connect returns EINPROGRESS; poll/epoll see nothing; SO_ERROR is 0; a second connect is EALREADY;
 * send is EAGAIN — all from the kernel. Meanwhile a worker asks the intproxy (Connect on a connection
 * of its own, hung up to cancel).
 *
 *   Connected → our socket J connects to the intproxy's endpoint; our socket I, bound to s too,
 *               connects to C: C's SYN_SENT meets I's SYN (a TCP simultaneous open) and both are
 *               ESTABLISHED at once — the only wake-up C's pollers see is "writable". We then carry
 *               the bytes between I and J (relay.c).
 *   Error     → C is disconnected (pollers see the failure at once) and SO_ERROR / the next connect
 *               report the target's errno (net.c).
 *
 * We hold no reference to C while waiting (so the program's close really closes it); we find it again
 * by its inode, and a socket the program closed meanwhile cancels the connect. A listening placeholder
 * (what the layer does) would show pollers a hang-up while it is moved to the endpoint. */
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <dirent.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "rpc.h"
#include "socket.h"
#include "sup.h"

static struct sock_filter drop_insn[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
static const struct sock_fprog drop_all = {1, drop_insn};

struct nb {
  pid_t tid, tgid;
  int fd;            /* the program's number for C */
  unsigned long ino; /* C's inode */
  int fam;           /* family of R and I */
  struct sockaddr_storage s, c; /* the placeholder port, and C's own address (as I reaches it) */
  socklen_t s_len, c_len;
  pl_addr remote; /* a copy: the call it came in is freed once answered */
};

static socklen_t loopback(int fam, struct sockaddr_storage *out, bool mapped) {
  memset(out, 0, sizeof *out);
  if (fam == AF_INET6 && !mapped) {
    struct sockaddr_in6 *a = (void *)out;
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_loopback;
    return sizeof *a;
  }
  if (fam == AF_INET6) { /* ::ffff:127.0.0.1 */
    struct sockaddr_in6 *a = (void *)out;
    a->sin6_family = AF_INET6;
    a->sin6_addr.s6_addr[10] = a->sin6_addr.s6_addr[11] = 0xff;
    a->sin6_addr.s6_addr[12] = 127, a->sin6_addr.s6_addr[15] = 1;
    return sizeof *a;
  }
  struct sockaddr_in *a = (void *)out;
  a->sin_family = AF_INET;
  a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return sizeof *a;
}

static in_port_t port_of(const struct sockaddr_storage *a) {
  return a->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)a)->sin6_port : ((const struct sockaddr_in *)a)->sin_port;
}

static void set_port(struct sockaddr_storage *a, in_port_t p) {
  if (a->ss_family == AF_INET6) ((struct sockaddr_in6 *)a)->sin6_port = p;
  else ((struct sockaddr_in *)a)->sin_port = p;
}

static int tcp_socket(int fam) {
  int s = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
  if (s >= 0) setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  return s;
}

/* C again, as our own descriptor: by its number if that is still C, else by searching the process's
 * descriptors for its inode. -1: the program closed it. */
static int find_c(const struct nb *b) {
  for (int pass = 0; pass < 2; pass++) {
    pid_t who = pass ? b->tid : b->tgid;
    int fd = sup_getfd(who, b->fd);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && st.st_ino == b->ino) return fd;
    if (fd >= 0) close(fd);
  }
  int n = sup_find_socket(b->tgid, b->ino);
  int found = n >= 0 ? sup_getfd(b->tgid, n) : -1;
  return found >= 0 ? found : -1;
}

static void set_state(const struct nb *b, int state, int err, const struct sockaddr_storage *local, socklen_t len) {
  sup_socks_lock();
  struct sup_sock *s = sup_sock(b->ino, false);
  if (s) {
    s->state = state, s->err = err;
    if (local) s->local = *local, s->local_len = len;
  }
  sup_socks_unlock();
}

static void fail(const struct nb *b, int err) {
  /* Recorded first: a poller woken by the disconnect asks SO_ERROR at once. */
  set_state(b, SUP_FAILED, err ? err : ECONNREFUSED, NULL, 0);
  int c = find_c(b);
  if (c >= 0) {
    setsockopt(c, SOL_SOCKET, SO_DETACH_FILTER, &(int){0}, sizeof(int));
    struct sockaddr un = {.sa_family = AF_UNSPEC};
    connect(c, &un, sizeof un); /* SYN_SENT → CLOSE: the program's pollers see the failure now */
    close(c);
  }
  pl_debug("supervisor: %d: background connect of fd %d failed: errno %d", b->tgid, b->fd, err);
}

/* The program still has C (else its connect is abandoned). */
static bool still_there(const struct nb *b) {
  int c = find_c(b);
  if (c < 0) return false;
  close(c);
  return true;
}

static void complete(struct nb *b, int R) {
  int J = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), err = ECONNREFUSED;
  pl_addr src;
  pl_msg req = {.type = 0};
  int D = -1;
  if (J >= 0 && pl_bound_source(J, AF_INET, &src) == 0) {
    pl_connect_request(&req, 1, &b->remote, AF_INET, &src);
    D = pl_rpc_dedicated(&req);
  }
  /* Wait for the target, checking now and then that the program still wants this connect. */
  bool abandoned = false;
  int ready = -1, r;
  struct pl_resp resp = {.heap = NULL};
  do { /* (PL_RPC_NOT_YET: only the Hello's answer was there; the Connect's is on its way) */
    while (D >= 0) {
      ready = poll(&(struct pollfd){.fd = D, .events = POLLIN}, 1, 250);
      if (ready > 0 || (ready < 0 && errno != EINTR)) break;
      if (ready == 0 && !still_there(b)) {
        abandoned = true;
        break;
      }
    }
    r = D >= 0 && ready > 0 ? pl_rpc_answer(D, req.id, PL_MSG_CONNECTED, &resp) : PL_RPC_GONE;
  } while (r == PL_RPC_NOT_YET && !abandoned);
  struct sockaddr_storage ep;
  socklen_t ep_len = r == 0 ? pl_endpoint(&resp.msg.u.connected.local, AF_INET, &ep) : 0;
  pl_resp_free(&resp);
  if (r == 0 && ep_len && connect(J, (struct sockaddr *)&ep, ep_len) == 0) err = 0;
  else if (r > 0 && r != EHOSTDOWN) err = r;
  if (D >= 0) pl_rpc_drop(D); /* after J connected: the endpoint is used, hanging up cancels nothing */
  if (abandoned) { /* the program closed C: hanging up told the intproxy to give the connect up */
    pl_debug("supervisor: %d: fd %d closed while connecting: abandoned", b->tgid, b->fd);
    set_state(b, SUP_FAILED, ECONNABORTED, NULL, 0);
    if (J >= 0) close(J);
    close(R);
    return;
  }
  int C = err ? -1 : find_c(b), I = -1;
  if (C >= 0 && (I = tcp_socket(b->fam)) >= 0 && bind(I, (struct sockaddr *)&b->s, b->s_len) == 0) {
    /* Recorded first: the program's getpeername may come the moment C is established. */
    set_state(b, SUP_CONNECTED, 0, &b->s, b->s_len);
    setsockopt(C, SOL_SOCKET, SO_DETACH_FILTER, &(int){0}, sizeof(int));
    if (connect(I, (struct sockaddr *)&b->c, b->c_len) != 0) err = errno; /* the simultaneous open */
  } else if (!err) {
    err = C < 0 ? ECONNABORTED : errno;
  }
  close(R);
  if (err) {
    if (I >= 0) close(I);
    if (J >= 0) close(J);
    if (C >= 0) close(C);
    return fail(b, err);
  }
  close(C);
  int one = 1;
  setsockopt(I, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(J, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  pl_debug("supervisor: %d: background connect of fd %d done", b->tgid, b->fd);
  sup_relay_add(I, J);
}

void sup_nb_connect(struct sup_call *c, int fd, const pl_addr *remote, const struct sockaddr_storage *sa, socklen_t len) {
  struct nb b = {.tid = (pid_t)c->n.pid, .fd = (int)c->n.data.args[0], .ino = c->ino, .remote = *remote};
  b.tgid = sup_tgid(b.tid);
  if (b.tgid < 0) b.tgid = b.tid;
  /* The placeholder port, in a family C can reach: IPv4 unless C is an IPv6-only socket. */
  int fam = sup_sock_family(fd), v6only = 0;
  socklen_t ol = sizeof v6only;
  if (fam == AF_INET6) getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &ol);
  b.fam = fam == AF_INET6 && v6only ? AF_INET6 : AF_INET;
  b.s_len = loopback(b.fam, &b.s, false);
  int R = tcp_socket(b.fam), err = 0;
  socklen_t sl = sizeof b.s;
  if (R < 0 || bind(R, (struct sockaddr *)&b.s, b.s_len) != 0 || getsockname(R, (struct sockaddr *)&b.s, &sl) != 0) err = errno;
  struct sockaddr_storage target;
  socklen_t target_len = loopback(fam, &target, fam == AF_INET6 && !v6only);
  set_port(&target, port_of(&b.s));
  if (!err && setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &drop_all, sizeof drop_all) != 0) err = errno;
  if (!err && connect(fd, (struct sockaddr *)&target, target_len) == 0) err = EIO; /* cannot happen: every answer is dropped */
  else if (!err && errno != EINPROGRESS) err = errno;
  socklen_t cl = sizeof b.c;
  if (!err && getsockname(fd, (struct sockaddr *)&b.c, &cl) != 0) err = errno;
  if (err) {
    setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &(int){0}, sizeof(int));
    if (R >= 0) close(R);
    return sup_reply(c, 0, err);
  }
  b.c_len = cl;
  if (b.c.ss_family == AF_INET6 && b.fam == AF_INET) { /* ::ffff:127.0.0.1:c as I, an IPv4 socket, reaches it */
    in_port_t port = port_of(&b.c);
    b.c_len = loopback(AF_INET, &b.c, false);
    set_port(&b.c, port);
  }
  sup_socks_lock();
  struct sup_sock *s = sup_sock(b.ino, true);
  if (s) {
    memset(s->relays, 0, sizeof s->relays);
    s->proto = 1, s->state = SUP_PENDING, s->err = 0, s->abort_next = false, s->conn = 0, s->n_relays = 0;
    s->peer = *sa, s->peer_len = len;
  }
  sup_socks_unlock();
  pl_debug("supervisor: %d: connect fd %d: EINPROGRESS, completing in the background", b.tgid, b.fd);
  sup_reply(c, 0, EINPROGRESS); /* frees c and closes our copy of C: from now on only the program holds it */
  complete(&b, R);
}
