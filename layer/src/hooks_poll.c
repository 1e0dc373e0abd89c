/* poll, ppoll, select, pselect and epoll: hide the instant a background connect switches its socket.
 *
 * pending.c moves a connecting socket from its placeholder to the intproxy's endpoint: disconnect, then
 * connect. The disconnect wakes pollers, and one that looks in between sees POLLHUP|POLLOUT — curl
 * takes that as a failed connect. So when a switch started or ended while the call ran (one counter
 * load otherwise), each relayed TCP socket in the result is asked again once its switch is over, and
 * its revents (or select bits) replaced by the kernel's current answer. epoll_wait results name the
 * registration's data, not a descriptor: epoll_ctl remembers the data of a socket connecting in the
 * background, and a returned event with the data of a recently switched socket is re-checked the same
 * way (APR's ab reads on the transient EPOLLHUP and fails with ENOTCONN). */
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>

#include "common.h"
#include "fdtable.h"
#include "real.h"
#include "socket.h"

/* No switch started, ended or ran while the call was inside the kernel. */
static inline bool quiet(unsigned gen) {
  return __atomic_load_n(&pl_switch_gen, __ATOMIC_ACQUIRE) == gen && !__atomic_load_n(&pl_switching, __ATOMIC_ACQUIRE);
}

static short recheck(int fd, short events) {
  struct pollfd p = {.fd = fd, .events = events};
  return pl_real.poll(&p, 1, 0) == 1 ? p.revents : 0;
}

static int fix_poll(struct pollfd *fds, nfds_t n, int rc) {
  if (rc <= 0) return rc;
  int saved = errno;
  for (nfds_t i = 0; i < n; i++) {
    if (!fds[i].revents || !pl_pending_settle(fds[i].fd)) continue;
    short now = recheck(fds[i].fd, fds[i].events);
    if (!now) rc--;
    fds[i].revents = now;
  }
  errno = saved;
  return rc;
}

PL_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout) {
  pl_real_ensure();
  unsigned gen = __atomic_load_n(&pl_switch_gen, __ATOMIC_ACQUIRE);
  int rc = pl_real.poll(fds, n, timeout);
  if (PL_LIKELY(quiet(gen))) return rc;
  return fix_poll(fds, n, rc);
}

PL_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *t, const sigset_t *mask) {
  pl_real_ensure();
  unsigned gen = __atomic_load_n(&pl_switch_gen, __ATOMIC_ACQUIRE);
  int rc = pl_real.ppoll(fds, n, t, mask);
  if (PL_LIKELY(quiet(gen))) return rc;
  return fix_poll(fds, n, rc);
}

static int fix_select(int nfds, fd_set *r, fd_set *w, fd_set *e, int rc) {
  if (rc <= 0) return rc;
  int saved = errno;
  for (int fd = 0; fd < nfds && fd < FD_SETSIZE; fd++) {
    bool in_r = r && FD_ISSET(fd, r), in_w = w && FD_ISSET(fd, w), in_e = e && FD_ISSET(fd, e);
    if (!(in_r || in_w || in_e) || !pl_pending_settle(fd)) continue;
    short now = recheck(fd, POLLIN | POLLOUT | POLLPRI);
    /* select's own mapping: readable on IN/HUP/ERR, writable on OUT/ERR, exceptional on PRI. */
    bool nr = now & (POLLIN | POLLHUP | POLLERR), nw = now & (POLLOUT | POLLERR), ne = now & POLLPRI;
    if (in_r && !nr) FD_CLR(fd, r), rc--;
    if (in_w && !nw) FD_CLR(fd, w), rc--;
    if (in_e && !ne) FD_CLR(fd, e), rc--;
  }
  errno = saved;
  return rc;
}

PL_EXPORT int select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *t) {
  pl_real_ensure();
  unsigned gen = __atomic_load_n(&pl_switch_gen, __ATOMIC_ACQUIRE);
  int rc = pl_real.select(nfds, r, w, e, t);
  if (PL_LIKELY(quiet(gen))) return rc;
  return fix_select(nfds, r, w, e, rc);
}

PL_EXPORT int pselect(int nfds, fd_set *r, fd_set *w, fd_set *e, const struct timespec *t, const sigset_t *mask) {
  pl_real_ensure();
  unsigned gen = __atomic_load_n(&pl_switch_gen, __ATOMIC_ACQUIRE);
  int rc = pl_real.pselect(nfds, r, w, e, t, mask);
  if (PL_LIKELY(quiet(gen))) return rc;
  return fix_select(nfds, r, w, e, rc);
}

PL_EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev) {
  pl_ensure_init();
  int rc = pl_real.epoll_ctl(epfd, op, fd, ev);
  struct pl_fdobj *o = pl_fd_get(fd);
  if (PL_LIKELY(!o) || rc != 0 || o == &pl_layer_mark || o->kind != FDK_TCP || !ev || (op != EPOLL_CTL_ADD && op != EPOLL_CTL_MOD))
    return rc;
  o->ep_events = ev->events;
  o->ep_data = ev->data.u64;
  o->ep_set = true;
  return rc;
}

static int fix_epoll(struct epoll_event *evs, int rc) {
  if (rc <= 0) return rc;
  int saved = errno;
  struct pl_switched sw[PL_SWITCHED_MAX];
  int n = pl_pending_switched(sw);
  int out = 0;
  for (int i = 0; i < rc; i++) {
    struct epoll_event e = evs[i];
    for (int k = 0; k < n; k++) {
      if (sw[k].ep_data != e.data.u64 || !pl_pending_settle(sw[k].fd)) continue;
      /* EPOLLIN/PRI/OUT/ERR/HUP/RDHUP have poll's values. */
      e.events = (uint32_t)recheck(sw[k].fd, (short)(sw[k].ep_events & (EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLRDHUP)));
      break;
    }
    if (e.events) evs[out++] = e;
  }
  errno = saved;
  return out;
}

PL_EXPORT int epoll_wait(int epfd, struct epoll_event *evs, int max, int timeout) {
  pl_real_ensure();
  unsigned gen = __atomic_load_n(&pl_switch_gen, __ATOMIC_ACQUIRE);
  int rc = pl_real.epoll_wait(epfd, evs, max, timeout);
  if (PL_LIKELY(quiet(gen))) return rc;
  return fix_epoll(evs, rc);
}

PL_EXPORT int epoll_pwait(int epfd, struct epoll_event *evs, int max, int timeout, const sigset_t *mask) {
  pl_real_ensure();
  unsigned gen = __atomic_load_n(&pl_switch_gen, __ATOMIC_ACQUIRE);
  int rc = pl_real.epoll_pwait(epfd, evs, max, timeout, mask);
  if (PL_LIKELY(quiet(gen))) return rc;
  return fix_epoll(evs, rc);
}
