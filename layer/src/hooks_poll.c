/* poll, ppoll, select, pselect, epoll_wait, epoll_pwait: no waiter of this process is inside the kernel
 * while pending.c switches a socket from its placeholder to its endpoint.
 *
 * The switch is a disconnect then a connect; in between the socket polls as POLLHUP|POLLOUT, and any
 * readiness check made then — a poll, select, an epoll_wait collecting its ready list — reports it
 * (curl takes it as a failed connect, APR's ab reads and gets ENOTCONN). Correcting results afterwards
 * cannot be exact (an epoll event names its registration's data, EPOLLONESHOT has disarmed it, an
 * edge has been consumed), so instead the switch excludes the waiters, like a writer excludes readers:
 *
 *   waiter (this file)                          completer (pending.c, one switch at a time)
 *   claim a slot (its epfd, or "poll")          pl_switch_wanted = 1
 *   pl_switch_wanted? → free it, wait, retry    kick every claimed slot: write the kick eventfd (in
 *   the real call                                 every guarded poll set); add it to each waiter's
 *   free the slot                                 epoll set (data PL_KICK_DATA)
 *   kicked with nothing else to report →        wait until every slot is free
 *     wait again with the time left             disconnect, connect; reset the kick; remove it from
 *                                                 the epoll sets; pl_switch_wanted = 0
 *
 * The slot store and the pl_switch_wanted load of a waiter, and the pl_switch_wanted store and slot
 * loads of the completer, are sequentially consistent: either the waiter sees the switch wanted and
 * stays out of the kernel, or the completer sees its slot and kicks it out. So the kernel never
 * evaluates the socket between the disconnect and the connect for a hooked waiter; after the connect
 * the socket is connecting (silent) or connected, and whatever the disconnect's wake-up queued — an
 * epoll ready-list entry — is re-polled by the kernel when collected, so it reports the true state.
 *
 * Cost: epoll_wait claims and frees a slot (two atomic operations) and scans its results for the kick's
 * data; poll and select load one counter and take the guarded path only while a background connect is
 * pending and their set holds such a socket. */
#include <poll.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>

#include "common.h"
#include "fdtable.h"
#include "real.h"
#include "socket.h"

static __thread unsigned slot_hint;

/* A free slot now holding v, or -1 when all are taken (the call then runs unprotected). */
static int claim(int v) {
  unsigned start = slot_hint ? slot_hint : (unsigned)(((uintptr_t)&slot_hint >> 6) % PL_WAITERS);
  for (unsigned k = 0; k < PL_WAITERS; k++) {
    unsigned i = (start + k) % PL_WAITERS;
    int zero = 0;
    if (__atomic_compare_exchange_n(&pl_waiters[i], &zero, v, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
      slot_hint = i ? i : 1;
      return (int)i;
    }
  }
  return -1;
}

static void leave(int i) {
  if (i < 0) return;
  __atomic_store_n(&pl_waiters[i], 0, __ATOMIC_SEQ_CST);
  if (PL_UNLIKELY(__atomic_load_n(&pl_switch_wanted, __ATOMIC_SEQ_CST))) pl_pending_waiter_left();
}

/* Claims a slot once no switch is wanted; the caller may then enter the kernel until leave(). */
static int enter(int v) {
  for (;;) {
    int i = claim(v);
    if (PL_LIKELY(!__atomic_load_n(&pl_switch_wanted, __ATOMIC_SEQ_CST))) return i;
    leave(i);
    pl_pending_wait_switch();
  }
}

/* Deadlines for waiting again after a kick: NULL timeout = for ever. */
struct wait_time {
  bool forever;
  struct timespec deadline, left;
};

static void wait_time_start(struct wait_time *w, const struct timespec *t) {
  w->forever = !t;
  if (!t) return;
  w->left = *t;
  clock_gettime(CLOCK_MONOTONIC, &w->deadline);
  w->deadline.tv_sec += t->tv_sec;
  w->deadline.tv_nsec += t->tv_nsec;
  if (w->deadline.tv_nsec >= 1000000000L) w->deadline.tv_sec++, w->deadline.tv_nsec -= 1000000000L;
}

/* Updates w->left; false when the time is up. */
static bool wait_time_left(struct wait_time *w) {
  if (w->forever) return true;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  long long ns = (long long)(w->deadline.tv_sec - now.tv_sec) * 1000000000LL + (w->deadline.tv_nsec - now.tv_nsec);
  if (ns <= 0) {
    w->left = (struct timespec){0, 0};
    return false;
  }
  w->left = (struct timespec){(time_t)(ns / 1000000000LL), (long)(ns % 1000000000LL)};
  return true;
}

static bool pending_fd(int fd) {
  struct pl_fdobj *o = pl_fd_get(fd);
  if (PL_LIKELY(!o) || o == &pl_layer_mark || o->kind != FDK_TCP) return false;
  uint8_t cs = __atomic_load_n(&o->cstate, __ATOMIC_ACQUIRE);
  return cs == CS_PENDING || cs == CS_SWITCHING;
}

/* ppoll over fds plus the kick eventfd, re-waiting when only the kick woke it. */
static int poll_guarded(struct pollfd *fds, nfds_t n, const struct timespec *t, const sigset_t *mask) {
  struct pollfd stack[256], *all = stack;
  size_t bytes = (n + 1) * sizeof *all;
  if (n + 1 > sizeof stack / sizeof *stack) { /* (mmap, not malloc: no allocator lock) */
    all = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (all == MAP_FAILED) return pl_real.ppoll(fds, n, t, mask);
  }
  for (nfds_t k = 0; k < n; k++) all[k] = fds[k];
  all[n] = (struct pollfd){.fd = __atomic_load_n(&pl_kick_fd, __ATOMIC_SEQ_CST), .events = POLLIN};
  struct wait_time w;
  wait_time_start(&w, t);
  int rc, e;
  for (;;) {
    int i = enter(PL_WAITER_POLL);
    rc = pl_real.ppoll(all, n + 1, w.forever ? NULL : &w.left, mask);
    e = errno;
    leave(i);
    if (rc <= 0 || !all[n].revents) break;
    all[n].revents = 0;
    if (--rc > 0 || !wait_time_left(&w)) break;
  }
  if (rc >= 0)
    for (nfds_t k = 0; k < n; k++) fds[k].revents = all[k].revents;
  if (all != stack) munmap(all, bytes);
  errno = e;
  return rc;
}

static int poll_common(struct pollfd *fds, nfds_t n, const struct timespec *t, const sigset_t *mask) {
  int saved = errno;
  bool guard = false;
  if (fds)
    for (nfds_t k = 0; k < n && !guard; k++) guard = pending_fd(fds[k].fd);
  if (!guard) {
    errno = saved;
    return pl_real.ppoll(fds, n, t, mask);
  }
  int rc = poll_guarded(fds, n, t, mask);
  if (rc >= 0) errno = saved;
  return rc;
}

PL_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout) {
  pl_real_ensure();
  if (PL_LIKELY(!__atomic_load_n(&pl_pending_count, __ATOMIC_SEQ_CST))) return pl_real.poll(fds, n, timeout);
  struct timespec t = {timeout / 1000, (timeout % 1000) * 1000000L};
  return poll_common(fds, n, timeout < 0 ? NULL : &t, NULL);
}

PL_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *t, const sigset_t *mask) {
  pl_real_ensure();
  if (PL_LIKELY(!__atomic_load_n(&pl_pending_count, __ATOMIC_SEQ_CST))) return pl_real.ppoll(fds, n, t, mask);
  return poll_common(fds, n, t, mask);
}

/* select through ppoll (the kick eventfd's number is beyond FD_SETSIZE), with the kernel's own mapping:
 * readable on IN/RDNORM/RDBAND/HUP/ERR, writable on OUT/WRNORM/WRBAND/ERR, exceptional on PRI. -2: not
 * guarded (no pending socket in the sets, or sets larger than an fd_set), call the real function. */
static int select_guarded(int nfds, fd_set *r, fd_set *w, fd_set *x, const struct timespec *t, const sigset_t *mask) {
  if (nfds <= 0 || nfds > FD_SETSIZE) return -2;
  struct pollfd p[FD_SETSIZE + 1];
  nfds_t n = 0;
  bool guard = false;
  for (int fd = 0; fd < nfds; fd++) {
    short ev = 0;
    if (r && FD_ISSET(fd, r)) ev |= POLLIN | POLLRDNORM | POLLRDBAND;
    if (w && FD_ISSET(fd, w)) ev |= POLLOUT | POLLWRNORM | POLLWRBAND;
    if (x && FD_ISSET(fd, x)) ev |= POLLPRI;
    if (!ev) continue;
    p[n++] = (struct pollfd){.fd = fd, .events = ev};
    guard = guard || pending_fd(fd);
  }
  if (!guard) return -2;
  int rc = poll_guarded(p, n, t, mask);
  if (rc < 0) return -1;
  for (nfds_t k = 0; k < n; k++)
    if (p[k].revents & POLLNVAL) {
      errno = EBADF;
      return -1;
    }
  /* As the kernel does: each set's answer built apart and counted, then copied out in order (r, w,
   * x), so a caller passing one set twice (Perl's IO::Socket::IP: the same vector for writing and
   * exceptions) gets the count of both and the last one's bits. Only the words nfds covers are
   * written: a caller's set may be shorter than an fd_set. */
  fd_set res[3];
  size_t words = ((size_t)nfds + NFDBITS - 1) / NFDBITS;
  memset(res, 0, sizeof res);
  rc = 0;
  for (nfds_t k = 0; k < n; k++) {
    int fd = p[k].fd;
    short re = p[k].revents;
    if (r && FD_ISSET(fd, r) && (re & (POLLIN | POLLRDNORM | POLLRDBAND | POLLHUP | POLLERR))) FD_SET(fd, &res[0]), rc++;
    if (w && FD_ISSET(fd, w) && (re & (POLLOUT | POLLWRNORM | POLLWRBAND | POLLERR))) FD_SET(fd, &res[1]), rc++;
    if (x && FD_ISSET(fd, x) && (re & POLLPRI)) FD_SET(fd, &res[2]), rc++;
  }
  fd_set *out[3] = {r, w, x};
  for (int i = 0; i < 3; i++)
    if (out[i]) memcpy(out[i], &res[i], words * sizeof(__fd_mask));
  return rc;
}

PL_EXPORT int select(int nfds, fd_set *r, fd_set *w, fd_set *x, struct timeval *tv) {
  pl_real_ensure();
  if (PL_LIKELY(!__atomic_load_n(&pl_pending_count, __ATOMIC_SEQ_CST))) return pl_real.select(nfds, r, w, x, tv);
  int saved = errno;
  struct timespec t = {0, 0}, start;
  if (tv) {
    t = (struct timespec){tv->tv_sec, tv->tv_usec * 1000L};
    clock_gettime(CLOCK_MONOTONIC, &start);
  }
  int rc = select_guarded(nfds, r, w, x, tv ? &t : NULL, NULL);
  if (rc == -2) {
    errno = saved;
    return pl_real.select(nfds, r, w, x, tv);
  }
  if (tv) { /* Linux's select leaves the time not slept in the timeout */
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long left = (long long)(t.tv_sec - (now.tv_sec - start.tv_sec)) * 1000000LL + (t.tv_nsec - (now.tv_nsec - start.tv_nsec)) / 1000;
    if (left < 0) left = 0;
    *tv = (struct timeval){(time_t)(left / 1000000LL), (suseconds_t)(left % 1000000LL)};
  }
  if (rc >= 0) errno = saved;
  return rc;
}

PL_EXPORT int pselect(int nfds, fd_set *r, fd_set *w, fd_set *x, const struct timespec *t, const sigset_t *mask) {
  pl_real_ensure();
  if (PL_LIKELY(!__atomic_load_n(&pl_pending_count, __ATOMIC_SEQ_CST))) return pl_real.pselect(nfds, r, w, x, t, mask);
  int saved = errno;
  int rc = select_guarded(nfds, r, w, x, t, mask);
  if (rc == -2) {
    errno = saved;
    return pl_real.pselect(nfds, r, w, x, t, mask);
  }
  if (rc >= 0) errno = saved;
  return rc;
}

/* epoll: every waiter is announced with its epoll set, even when nothing is pending — a socket may be
 * registered in the set, or connected, while it sleeps. A kick is the kick eventfd added to the set;
 * its events are taken out of the results. */
static int epoll_common(int epfd, struct epoll_event *evs, int max, int timeout, const sigset_t *mask, bool pwait) {
  if (epfd < 0) return pwait ? pl_real.epoll_pwait(epfd, evs, max, timeout, mask) : pl_real.epoll_wait(epfd, evs, max, timeout);
  int saved = errno;
  struct wait_time w = {.forever = true};
  int ms = timeout;
  if (timeout > 0) {
    struct timespec t = {timeout / 1000, (timeout % 1000) * 1000000L};
    wait_time_start(&w, &t);
  }
  for (;;) {
    int i = enter(epfd + 1);
    int rc = pwait ? pl_real.epoll_pwait(epfd, evs, max, ms, mask) : pl_real.epoll_wait(epfd, evs, max, ms);
    int e = errno;
    leave(i);
    if (rc <= 0) {
      errno = rc < 0 ? e : saved;
      return rc;
    }
    int out = 0;
    for (int k = 0; k < rc; k++)
      if (PL_LIKELY(evs[k].data.u64 != PL_KICK_DATA)) evs[out++] = evs[k];
    if (out > 0 || timeout == 0) {
      errno = saved;
      return out;
    }
    if (timeout > 0) { /* kicked, nothing else: wait again for the time left (rounded up) */
      if (!wait_time_left(&w)) {
        errno = saved;
        return 0;
      }
      long long left_ms = (long long)w.left.tv_sec * 1000 + (w.left.tv_nsec + 999999) / 1000000;
      ms = left_ms > 0x7fffffff ? 0x7fffffff : (int)left_ms;
    }
  }
}

PL_EXPORT int epoll_wait(int epfd, struct epoll_event *evs, int max, int timeout) {
  pl_real_ensure();
  return epoll_common(epfd, evs, max, timeout, NULL, false);
}

PL_EXPORT int epoll_pwait(int epfd, struct epoll_event *evs, int max, int timeout, const sigset_t *mask) {
  pl_real_ensure();
  return epoll_common(epfd, evs, max, timeout, mask, true);
}
