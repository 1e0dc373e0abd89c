/* Unconnected UDP, as the layer does it (layer/README.md, "Sockets"): a datagram sendto/sendmsg'd to a
 * remote destination goes to a relay of that (socket, destination) — one Connect{udp} each, at most
 * SUP_MAX_RELAYS per socket — and the source of what comes back through a relay is mapped back to the
 * remote, on this socket or on a connected one (resolvers — glibc, musl, c-ares — drop replies whose
 * source is not the nameserver they asked). The supervisor does these calls itself on its copy of the
 * socket with the program's bytes, and writes the results back; everything else continues untouched. */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "rpc.h"
#include "socket.h"
#include "sup.h"

#define A(i) (c->n.data.args[i])
#define MAX_DGRAM (256 * 1024)
#define MAX_IOV 64
#define MAX_CONTROL 4096

/* The endpoint of the relay from socket fd to c->sa (made on first use). Returns its length, or 0 with
 * *err set. */
static socklen_t relay_for(struct sup_call *c, int fd, struct sockaddr_storage *ep, int *err) {
  sup_socks_lock();
  struct sup_sock *s = sup_sock(c->ino, true);
  for (int i = 0; s && i < s->n_relays; i++)
    if (pl_same_sockaddr((struct sockaddr *)&c->sa, c->sa_len, &s->relays[i].remote, s->relays[i].remote_len)) {
      *ep = s->relays[i].local;
      socklen_t len = s->relays[i].local_len;
      sup_socks_unlock();
      return len;
    }
  sup_socks_unlock();
  int fam = sup_sock_family(fd);
  pl_addr src;
  uint32_t conn = 0, evicted = 0;
  socklen_t len = 0;
  *err = pl_bound_source(fd, fam, &src);
  if (!*err) *err = pl_open_remote(2, &c->dest, fam, &src, &conn, ep, &len);
  if (*err) return 0;
  sup_socks_lock();
  s = sup_sock(c->ino, true);
  if (s) {
    if (s->n_relays == SUP_MAX_RELAYS) { /* the oldest goes */
      evicted = s->relays[0].conn;
      memmove(&s->relays[0], &s->relays[1], sizeof s->relays[0] * (SUP_MAX_RELAYS - 1));
      s->n_relays--;
    }
    if (!s->proto) s->proto = 2;
    s->relays[s->n_relays].remote = c->sa, s->relays[s->n_relays].remote_len = c->sa_len;
    s->relays[s->n_relays].local = *ep, s->relays[s->n_relays].local_len = len;
    s->relays[s->n_relays++].conn = conn;
  }
  sup_socks_unlock();
  if (evicted) pl_release_conn(evicted);
  sup_socks_gc_maybe(true);
  return len;
}

/* Our copy of the socket, if it is one we relay for (UDP to a remote); else answers c (continue). */
static int udp_fd(struct sup_call *c) {
  int fd = sup_getfd((pid_t)c->n.pid, (int)A(0));
  if (fd < 0) {
    sup_reply(c, 0, -fd);
    return -1;
  }
  c->fd = fd;
  if (sup_wanted(c, fd) != 2) {
    sup_continue(c);
    return -1;
  }
  return fd;
}

/* Gathers the program's iovecs (at addr, n of them) into one buffer of ours. */
static ssize_t gather(pid_t tid, uint64_t addr, size_t n, uint8_t *buf, size_t cap) {
  struct iovec v[MAX_IOV];
  if (n > MAX_IOV || sup_read(tid, addr, v, n * sizeof v[0])) return -1;
  size_t len = 0;
  for (size_t i = 0; i < n; i++) {
    if (v[i].iov_len > cap - len) return -1;
    if (v[i].iov_len && sup_read(tid, (uint64_t)(uintptr_t)v[i].iov_base, buf + len, v[i].iov_len)) return -1;
    len += v[i].iov_len;
  }
  return (ssize_t)len;
}

static void sendto_remote(struct sup_call *c) {
  if (!sup_remote_dest(c)) return sup_continue(c);
  int fd = udp_fd(c), err = 0;
  if (fd < 0) return;
  struct sockaddr_storage ep;
  socklen_t ep_len = relay_for(c, fd, &ep, &err);
  if (!ep_len) return sup_reply(c, 0, err);
  size_t len = A(2) < MAX_DGRAM ? (size_t)A(2) : 0;
  uint8_t *buf = malloc(len ? len : 1);
  if (!buf || (A(2) && !len)) return free(buf), sup_reply(c, 0, buf ? EMSGSIZE : ENOMEM);
  if (len && sup_read((pid_t)c->n.pid, A(1), buf, len)) return free(buf), sup_reply(c, 0, EFAULT);
  ssize_t n = sendto(fd, buf, len, (int)A(3) | MSG_NOSIGNAL, (struct sockaddr *)&ep, ep_len);
  err = errno;
  free(buf);
  sup_reply(c, n, n < 0 ? err : 0);
}

void sup_on_sendto(struct sup_call *c) {
  int r = sup_read_addr(c, A(4), A(5));
  if (r <= 0) return r < 0 ? sup_reply(c, 0, EPERM) : sup_continue(c);
  if (!sup_maybe_nameserver(&c->sa) && !sup_remote_dest(c)) return sup_continue(c);
  c->ino = sup_socket_ino((pid_t)c->n.pid, (int)A(0));
  sup_defer(c, sendto_remote);
}

/* Sends the program's message m (with its name already in c->sa when remote) on our copy fd: to the
 * relay when c->sa is remote, as it is otherwise. Returns the count, or -errno. */
static ssize_t send_one(struct sup_call *c, int fd, const struct msghdr *m, bool remote, int flags) {
  struct sockaddr_storage ep;
  socklen_t ep_len = 0;
  int err = 0;
  if (remote && !(ep_len = relay_for(c, fd, &ep, &err))) return -err;
  pid_t tid = (pid_t)c->n.pid;
  uint8_t *buf = malloc(MAX_DGRAM), control[MAX_CONTROL];
  ssize_t len = buf ? gather(tid, (uint64_t)(uintptr_t)m->msg_iov, m->msg_iovlen, buf, MAX_DGRAM) : -1;
  if (len < 0) return free(buf), buf ? -EFAULT : -ENOMEM;
  if (m->msg_controllen > sizeof control) return free(buf), -ENOBUFS;
  if (m->msg_controllen && sup_read(tid, (uint64_t)(uintptr_t)m->msg_control, control, m->msg_controllen)) return free(buf), -EFAULT;
  struct sockaddr_storage name;
  socklen_t name_len = m->msg_namelen <= sizeof name ? m->msg_namelen : 0;
  if (!remote && m->msg_name && (!name_len || sup_read(tid, (uint64_t)(uintptr_t)m->msg_name, &name, name_len))) return free(buf), -EFAULT;
  struct iovec v = {buf, (size_t)len};
  struct msghdr out = {.msg_name = remote ? &ep : m->msg_name ? &name : NULL, .msg_namelen = remote ? ep_len : m->msg_name ? name_len : 0,
                       .msg_iov = &v, .msg_iovlen = 1, .msg_control = m->msg_controllen ? control : NULL,
                       .msg_controllen = m->msg_controllen};
  ssize_t n = sendmsg(fd, &out, flags | MSG_NOSIGNAL);
  err = errno;
  free(buf);
  return n >= 0 ? n : -err;
}

static void sendmsg_remote(struct sup_call *c) {
  if (!sup_remote_dest(c)) return sup_continue(c);
  int fd = udp_fd(c);
  if (fd < 0) return;
  struct msghdr m;
  if (sup_read((pid_t)c->n.pid, A(1), &m, sizeof m)) return sup_reply(c, 0, EFAULT);
  ssize_t n = send_one(c, fd, &m, true, (int)A(2));
  sup_reply(c, n, n < 0 ? (int)-n : 0);
}

/* sendmmsg naming a remote: every message sent by us (the remote ones through their relays), each
 * msg_len written back, the count returned — as the kernel does, an error only if the first fails. */
static void sendmmsg_remote(struct sup_call *c) {
  int fd = udp_fd(c);
  if (fd < 0) return;
  pid_t tid = (pid_t)c->n.pid;
  struct mmsghdr h[16];
  size_t n = A(2) < 16 ? (size_t)A(2) : 16;
  if (sup_read(tid, A(1), h, n * sizeof h[0])) return sup_reply(c, 0, EFAULT);
  size_t sent = 0;
  ssize_t first_err = 0;
  for (; sent < n; sent++) {
    bool remote = false;
    if (h[sent].msg_hdr.msg_name && sup_read_addr(c, (uint64_t)(uintptr_t)h[sent].msg_hdr.msg_name, h[sent].msg_hdr.msg_namelen) > 0)
      remote = sup_remote_dest(c);
    ssize_t r = send_one(c, fd, &h[sent].msg_hdr, remote, (int)A(3));
    if (r < 0) {
      first_err = r;
      break;
    }
    unsigned len = (unsigned)r;
    if (sup_write(tid, A(1) + sent * sizeof h[0] + offsetof(struct mmsghdr, msg_len), &len, sizeof len)) break;
  }
  if (sent == 0 && first_err) return sup_reply(c, 0, (int)-first_err);
  sup_reply(c, (long)sent, 0);
}

void sup_on_sendmsg(struct sup_call *c, bool mmsg) {
  if (mmsg) { /* glibc's resolver sends its queries with it on a connected socket: only a name matters */
    struct mmsghdr h[16];
    size_t n = A(2) < 16 ? (size_t)A(2) : 16;
    if (sup_read((pid_t)c->n.pid, A(1), h, n * sizeof h[0])) return sup_continue(c);
    for (size_t i = 0; i < n; i++) {
      if (!h[i].msg_hdr.msg_name) continue;
      int r = sup_read_addr(c, (uint64_t)(uintptr_t)h[i].msg_hdr.msg_name, h[i].msg_hdr.msg_namelen);
      if (r < 0) return sup_reply(c, 0, EPERM);
      if (r > 0 && (sup_maybe_nameserver(&c->sa) || sup_remote_dest(c))) {
        c->ino = sup_socket_ino((pid_t)c->n.pid, (int)A(0));
        return sup_defer(c, sendmmsg_remote);
      }
    }
    return sup_continue(c);
  }
  struct msghdr m;
  if (sup_read((pid_t)c->n.pid, A(1), &m, sizeof m) || !m.msg_name) return sup_continue(c);
  int r = sup_read_addr(c, (uint64_t)(uintptr_t)m.msg_name, m.msg_namelen);
  if (r <= 0) return r < 0 ? sup_reply(c, 0, EPERM) : sup_continue(c);
  if (!sup_maybe_nameserver(&c->sa) && !sup_remote_dest(c)) return sup_continue(c);
  c->ino = sup_socket_ino((pid_t)c->n.pid, (int)A(0));
  sup_defer(c, sendmsg_remote);
}

/* The remote a relay endpoint stands for, on socket ino. */
static bool unmap(unsigned long ino, struct sockaddr_storage *from, socklen_t *len) {
  bool hit = false;
  sup_socks_lock();
  struct sup_sock *s = sup_sock(ino, false);
  if (s && s->proto == 2 && s->state == SUP_CONNECTED && pl_same_sockaddr((struct sockaddr *)from, *len, &s->local, s->local_len)) {
    *from = s->peer, *len = s->peer_len, hit = true;
  }
  for (int i = 0; s && !hit && i < s->n_relays; i++)
    if (pl_same_sockaddr((struct sockaddr *)from, *len, &s->relays[i].local, s->relays[i].local_len))
      *from = s->relays[i].remote, *len = s->relays[i].remote_len, hit = true;
  sup_socks_unlock();
  return hit;
}

/* Waits (a blocking socket, as the program asked) until fd is readable, the call is abandoned, or
 * SO_RCVTIMEO passes. 0 ready, else the errno to answer (or -1: the target is gone). */
static int wait_readable(struct sup_call *c, int fd, int flags) {
  if ((flags & MSG_DONTWAIT) || (fcntl(fd, F_GETFL) & O_NONBLOCK)) return 0;
  struct timeval tv = {0};
  socklen_t tl = sizeof tv;
  getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &tl);
  long limit = tv.tv_sec * 1000 + tv.tv_usec / 1000, waited = 0;
  for (;;) {
    if (poll(&(struct pollfd){.fd = fd, .events = POLLIN}, 1, 200) > 0) return 0;
    waited += 200;
    if (!sup_valid(c)) return -1;
    if (limit > 0 && waited >= limit) return EAGAIN;
  }
}

static void recv_remote(struct sup_call *c) {
  bool msg = c->n.data.nr == SYS_recvmsg;
  pid_t tid = (pid_t)c->n.pid;
  int fd = sup_getfd(tid, (int)A(0));
  if (fd < 0) return sup_reply(c, 0, -fd);
  c->fd = fd;
  int flags = (int)(msg ? A(2) : A(3));
  struct msghdr m = {0};
  struct iovec v[MAX_IOV];
  size_t cap = A(2);
  if (msg) {
    if (sup_read(tid, A(1), &m, sizeof m) || m.msg_iovlen > MAX_IOV ||
        sup_read(tid, (uint64_t)(uintptr_t)m.msg_iov, v, m.msg_iovlen * sizeof v[0]))
      return sup_reply(c, 0, EFAULT);
    cap = 0;
    for (size_t i = 0; i < m.msg_iovlen; i++) cap += v[i].iov_len;
  }
  int w = wait_readable(c, fd, flags);
  if (w) return w < 0 ? sup_continue(c) : sup_reply(c, 0, w);
  if (cap > MAX_DGRAM) cap = MAX_DGRAM;
  uint8_t *buf = malloc(cap ? cap : 1), control[MAX_CONTROL];
  struct sockaddr_storage from;
  struct iovec one = {buf, cap};
  struct msghdr h = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &one, .msg_iovlen = 1,
                     .msg_control = m.msg_controllen ? control : NULL,
                     .msg_controllen = m.msg_controllen < sizeof control ? m.msg_controllen : sizeof control};
  ssize_t n = buf ? recvmsg(fd, &h, flags | MSG_DONTWAIT) : -1;
  int err = buf ? errno : ENOMEM;
  if (n < 0) return free(buf), sup_reply(c, 0, err);
  socklen_t from_len = h.msg_namelen;
  unmap(c->ino, &from, &from_len);
  size_t got = (size_t)n < cap ? (size_t)n : cap; /* n may exceed cap with MSG_TRUNC */
  int bad = 0;
  if (msg) {
    for (size_t i = 0, off = 0; i < m.msg_iovlen && off < got; off += v[i++].iov_len) {
      size_t k = got - off < v[i].iov_len ? got - off : v[i].iov_len;
      bad |= sup_write(tid, (uint64_t)(uintptr_t)v[i].iov_base, buf + off, k);
    }
    if (m.msg_name) bad |= sup_write(tid, (uint64_t)(uintptr_t)m.msg_name, &from, from_len < m.msg_namelen ? from_len : m.msg_namelen);
    m.msg_namelen = from_len;
    bad |= sup_write(tid, (uint64_t)(uintptr_t)m.msg_control, control, h.msg_controllen);
    m.msg_controllen = h.msg_controllen;
    m.msg_flags = h.msg_flags;
    bad |= sup_write(tid, A(1), &m, sizeof m);
  } else {
    socklen_t room;
    bad |= sup_write(tid, A(1), buf, got) | sup_read(tid, A(5), &room, sizeof room);
    if (!bad) bad |= sup_write(tid, A(4), &from, from_len < room ? from_len : room) | sup_write(tid, A(5), &from_len, sizeof from_len);
  }
  free(buf);
  sup_reply(c, n, bad ? EFAULT : 0);
}

void sup_on_recv(struct sup_call *c, bool msg) {
  if (msg) { /* recvmsg without a name to fill: nothing to map */
    struct msghdr m;
    if (sup_read((pid_t)c->n.pid, c->n.data.args[1], &m, sizeof m) || !m.msg_name) return sup_continue(c);
  }
  c->ino = sup_socket_ino((pid_t)c->n.pid, (int)A(0));
  sup_socks_lock();
  struct sup_sock *s = sup_sock(c->ino, false);
  bool mapped = s && s->proto == 2 && (s->state == SUP_CONNECTED || s->n_relays > 0);
  sup_socks_unlock();
  if (!mapped) return sup_continue(c);
  sup_defer(c, recv_remote);
}
