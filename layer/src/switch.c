/* Moving a socket from its placeholder to its endpoint (pending.c's completer), with no hooked poller of
 * the process inside the kernel meanwhile: the completer's side of the exclusion hooks_poll.c describes. */
#include <linux/filter.h>
#include <sys/epoll.h>
#include <time.h>

#include "common.h"
#include "real.h"
#include "socket.h"

/* The exclusion between the switch and the pollers (socket.h, hooks_poll.c). */
int pl_waiters[PL_WAITERS];
int pl_switch_wanted;
int pl_kick_fd = -1;

void pl_pending_wait_switch(void) {
  pl_pending_lock();
  while (__atomic_load_n(&pl_switch_wanted, __ATOMIC_SEQ_CST)) pl_pending_wait(NULL, false);
  pl_pending_unlock();
}

void pl_pending_waiter_left(void) { pl_pending_broadcast(); }

void pl_set_filter(int fd, bool drop_all) {
  if (!drop_all) {
    int unused = 0;
    setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &unused, sizeof unused);
    return;
  }
  struct sock_filter ret0 = BPF_STMT(BPF_RET | BPF_K, 0);
  struct sock_fprog prog = {.len = 1, .filter = &ret0};
  setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog);
}

/* Moves the socket from its placeholder to `to` (the endpoint, or the refuser). 0 or an errno. The
 * disconnect gives back a port that was bound implicitly (port 0): bind that same port again, since it
 * is the Connect.source the endpoint waits for. */
int pl_switch_to(int fd, const struct sockaddr_storage *to, socklen_t to_len) {
  struct sockaddr_storage self;
  socklen_t self_len = sizeof self;
  bool have_self = getsockname(fd, (struct sockaddr *)&self, &self_len) == 0;
  struct sockaddr unspec = {.sa_family = AF_UNSPEC};
  pl_real.connect(fd, &unspec, sizeof unspec);
  pl_set_filter(fd, false); /* (after the listener is gone: no connection can reach it unfiltered) */
  /* (getsockname still shows the port, but the kernel no longer holds it; an explicitly bound port
   * is still held, and then this bind fails harmlessly.) */
  if (have_self) (void)bind(fd, (struct sockaddr *)&self, self_len);
  int rc = pl_real.connect(fd, (const struct sockaddr *)to, to_len);
  return rc == 0 || errno == EINPROGRESS ? 0 : errno;
}

/* Before a switch: from now on no hooked poller enters the kernel (they back off in their hook), and
 * every one inside is kicked out — a poll/select waiter holds the kick eventfd in its set, an epoll
 * waiter's set gets it added (its number goes into kicked[]). Returns once every slot is empty. A
 * waiter that cannot be kicked (an epoll set closed by another thread while it waited in it) is given
 * up on after two seconds: then the switch runs anyway. */
static bool any_waiter(void) {
  for (int i = 0; i < PL_WAITERS; i++)
    if (__atomic_load_n(&pl_waiters[i], __ATOMIC_SEQ_CST)) return true;
  return false;
}

int pl_exclude_waiters(int kicked[PL_WAITERS]) {
  __atomic_store_n(&pl_switch_wanted, 1, __ATOMIC_SEQ_CST);
  int nk = 0;
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += 2;
  for (bool first = true;; first = false) {
    bool busy = false;
    for (int i = 0; i < PL_WAITERS; i++) {
      int v = __atomic_load_n(&pl_waiters[i], __ATOMIC_SEQ_CST);
      if (!v) continue;
      busy = true;
      if (v == PL_WAITER_POLL) continue;
      int k = 0;
      while (k < nk && kicked[k] != v - 1) k++;
      if (k < nk) continue;
      struct epoll_event ev = {.events = EPOLLIN, .data.u64 = PL_KICK_DATA};
      if (epoll_ctl(v - 1, EPOLL_CTL_ADD, pl_kick_fd, &ev) == 0) kicked[nk++] = v - 1;
    }
    if (first && busy) {
      uint64_t one = 1;
      (void)!write(pl_kick_fd, &one, sizeof one);
    }
    if (!busy) return nk;
    struct timespec now, step;
    clock_gettime(CLOCK_REALTIME, &now);
    if (now.tv_sec > deadline.tv_sec || (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec)) return nk;
    step = now;
    step.tv_nsec += 10 * 1000 * 1000;
    if (step.tv_nsec >= 1000000000L) step.tv_sec++, step.tv_nsec -= 1000000000L;
    /* Looked at again under mu: a waiter leaves its slot before it takes mu to say so, so one that
     * left after the scan above is seen here, and one that leaves later wakes this wait. (Without it,
     * a waiter leaving between the scan and the wait cost the switch the whole 10 ms step.) */
    pl_pending_lock();
    if (any_waiter()) pl_pending_timedwait(&step);
    pl_pending_unlock();
  }
}

/* After the switch (the socket is connecting to its new address, or connected: silent or writable). */
void pl_admit_waiters(const int kicked[PL_WAITERS], int nk) {
  uint64_t v;
  (void)!read(pl_kick_fd, &v, sizeof v);
  for (int k = 0; k < nk; k++) epoll_ctl(kicked[k], EPOLL_CTL_DEL, pl_kick_fd, NULL);
  __atomic_store_n(&pl_switch_wanted, 0, __ATOMIC_SEQ_CST);
  pl_pending_broadcast();
}
