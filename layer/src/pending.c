/* Non-blocking connects completed in the background (connect.c starts them).
 *
 *   app thread                          completer thread (one per process, started on first use)
 *   connect(fd) ─ placeholder: listen,  poll(every pending request's connection + a wake-up eventfd)
 *     drop every packet (BPF)            ├─ Connected{endpoint}: with every waiter kept out of the
 *   Connect sent on its own connection   │    kernel (hooks_poll.c), disconnect, detach the filter,
 *   ◀ EINPROGRESS                        │    connect to the endpoint (loopback: done within the call);
 *                                        │    let waiters in; close the request's link (after the
 *                                        │    answer that cancels nothing: the intproxy takes the
 *                                        │    connection whenever it reaches its listener)
 *                                        ├─ Error{errno}: connect to a local port that refuses (RST:
 *   close(fd) while pending ─────────────┤    POLLERR, like any failed connect); SO_ERROR says errno
 *     pl_pending_cancel                  └─ cancelled: close the request's link — the intproxy abandons
 *                                             the target's connection at once (once answered: Release
 *                                             first, as for an endpoint the switch could not reach)
 *
 * The completer works on its own dup of the socket, never on the app's descriptor number, so a close
 * (and reuse of the number) by the app cannot make it touch another file. It reads and writes an entry
 * only under `mu`, and only while the slot still points at it (cancel clears that before the entry is
 * freed). The thread blocks every signal: the app's handlers must run on the app's threads. The move
 * itself and the exclusion of the waiters around it are switch.c's. */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>

#include "common.h"
#include "fdtable.h"
#include "real.h"
#include "rpc.h"
#include "socket.h"

#define PENDING_MAX 128

static struct slot {
  bool used, cancelled, answered;
  int app_fd;  /* the app's number at start (only for the fork child) */
  int rpc;     /* the Connect request's own connection to the intproxy */
  int dup;     /* our descriptor for the socket */
  int family;  /* of the socket */
  uint32_t id; /* of the Connect request */
  struct pl_fdobj *o;
} slots[PENDING_MAX];

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int wake_fd = -1;
static bool started;
int pl_pending_count;

void pl_pending_lock(void) { pthread_mutex_lock(&mu); }
void pl_pending_unlock(void) { pthread_mutex_unlock(&mu); }
void pl_pending_wait(struct pl_fdobj *o, bool whole_connect) {
  (void)o;
  (void)whole_connect;
  pthread_cond_wait(&changed, &mu);
}
void pl_pending_timedwait(const struct timespec *until) { pthread_cond_timedwait(&changed, &mu, until); }
void pl_pending_broadcast(void) {
  pthread_mutex_lock(&mu);
  pthread_cond_broadcast(&changed);
  pthread_mutex_unlock(&mu);
}

static void wake(void) {
  uint64_t one = 1;
  if (wake_fd >= 0) (void)!write(wake_fd, &one, sizeof one);
}

/* A descriptor of ours, out of the app's way (below rpc.c's) and protected from its close/dup2. */
static int ours(int fd) { return pl_fd_take_high(fd, 400); }

static void drop(int fd) {
  if (fd < 0) return;
  pl_fd_mark_layer(fd, false);
  pl_real.close(fd);
}

/* `conn` (0: none) was answered but its endpoint will not be used: say so before hanging up (after the
 * answer, hanging up alone cancels nothing while the process lives; see intproxy/outgoing.ts). */
static void free_slot_releasing(struct slot *s, uint32_t conn) {
  if (s->rpc >= 0 && conn) {
    pl_msg rel = {.type = PL_MSG_RELEASE};
    rel.u.release.conn = conn;
    pl_rpc_send_and_drop(s->rpc, &rel);
    s->rpc = -1;
  }
  if (s->rpc >= 0) pl_rpc_drop(s->rpc);
  drop(s->dup);
  memset(s, 0, sizeof *s);
  __atomic_sub_fetch(&pl_pending_count, 1, __ATOMIC_SEQ_CST);
}

static void free_slot(struct slot *s) { free_slot_releasing(s, 0); }

/* A local TCP port that refuses: bound, never listening (a SYN there is answered with RST). */
socklen_t pl_refuser(int fam, struct sockaddr_storage *out) {
  static int port4;
  if (!port4) {
    int s = ours(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(s, (struct sockaddr *)&a, &l) == 0)
      port4 = ntohs(a.sin_port);
  }
  pl_addr at = {.family = 4, .port = (uint16_t)port4, .ip = {127, 0, 0, 1}};
  return pl_endpoint(&at, fam, out);
}

/* One answered slot on its way through a switch. */
struct job {
  struct slot *s;
  int err;
  bool answered;
  uint32_t conn;
  struct sockaddr_storage local;
  socklen_t local_len;
};

/* Reads a slot's answer. True when the slot's socket is to be switched (j filled, the socket marked
 * SWITCHING); false when there is nothing to do yet or the slot is already done with. */
static bool answer(struct slot *s, struct job *j) {
  struct pl_resp resp;
  int err = pl_rpc_answer(s->rpc, s->id, PL_MSG_CONNECTED, &resp);
  if (err == PL_RPC_NOT_YET) return false; /* the Hello's answer alone: the Connect's is on its way */
  *j = (struct job){.s = s};
  if (err == 0) {
    j->conn = resp.msg.u.connected.conn;
    j->local_len = pl_endpoint(&resp.msg.u.connected.local, s->family, &j->local);
    if (!j->local_len) err = EAFNOSUPPORT;
  }
  pl_resp_free(&resp);
  if (pl_rpc_gone(err)) err = ECONNREFUSED;
  j->err = err;
  j->answered = !err;

  pthread_mutex_lock(&mu);
  s->answered = true;
  if (!s->o || s->cancelled) { /* the app closed the socket meanwhile: the endpoint is not wanted */
    free_slot_releasing(s, err ? 0 : j->conn);
    pthread_mutex_unlock(&mu);
    return false;
  }
  s->o->cstate = CS_SWITCHING;
  pthread_mutex_unlock(&mu);
  return true;
}

/* The socket to its endpoint, or (on an error) to the refuser. Waiters are kept out by the caller. */
static void switch_job(struct job *j) {
  if (!j->err) j->err = pl_switch_to(j->s->dup, &j->local, j->local_len);
  if (j->err) {
    struct sockaddr_storage refuse;
    socklen_t refuse_len = pl_refuser(j->s->family, &refuse);
    pl_switch_to(j->s->dup, &refuse, refuse_len);
  }
}

static void finish(struct job *j) {
  struct slot *s = j->s;
  pthread_mutex_lock(&mu);
  if (s->o) {
    if (j->err) {
      s->o->cstate = CS_FAILED;
      s->o->cerr = j->err;
    } else {
      s->o->conn = j->conn;
      s->o->local = j->local;
      s->o->local_len = j->local_len;
      s->o->connected = true;
      s->o->cstate = CS_CONNECTED;
    }
    s->o->pslot = -1;
  }
  pthread_cond_broadcast(&changed);
  free_slot_releasing(s, j->answered && j->err ? j->conn : 0);
  pthread_mutex_unlock(&mu);
}

/* Every answer that came in one wake-up is switched under one exclusion of the waiters: a burst of
 * connects (ab -c20) kicks the app's pollers once, not once per socket. */
static void complete(struct slot *const *ready, int n) {
  static struct job jobs[PENDING_MAX]; /* (the completer's own: one thread) */
  int nj = 0;
  for (int k = 0; k < n; k++)
    if (answer(ready[k], &jobs[nj])) nj++;
  if (!nj) return;
  /* Between the disconnect and the connect a socket polls as POLLHUP|POLLOUT: nobody may look. */
  int kicked[PL_WAITERS];
  int nk = pl_exclude_waiters(kicked);
  for (int k = 0; k < nj; k++) switch_job(&jobs[k]);
  pl_admit_waiters(kicked, nk);
  for (int k = 0; k < nj; k++) finish(&jobs[k]);
}

static void *completer(void *unused) {
  (void)unused;
  for (;;) {
    struct pollfd pfd[PENDING_MAX + 1];
    int which[PENDING_MAX + 1];
    int n = 0;
    pfd[n++] = (struct pollfd){.fd = wake_fd, .events = POLLIN};
    pthread_mutex_lock(&mu);
    for (int i = 0; i < PENDING_MAX; i++) {
      struct slot *s = &slots[i];
      if (!s->used || s->rpc < 0) continue;
      /* Nobody waits for it: tell the intproxy by hanging up. An answer already there stays unread,
       * and the intproxy sees the link reset rather than ended: the layer never had it. */
      if (s->cancelled && !s->answered) {
        free_slot(s);
        continue;
      }
      which[n] = i;
      pfd[n++] = (struct pollfd){.fd = s->rpc, .events = POLLIN};
    }
    pthread_mutex_unlock(&mu);
    if (pl_real.poll(pfd, (nfds_t)n, -1) < 0) continue;
    if (pfd[0].revents) {
      uint64_t v;
      (void)!read(wake_fd, &v, sizeof v);
    }
    struct slot *ready[PENDING_MAX];
    int nr = 0;
    for (int k = 1; k < n; k++)
      if (pfd[k].revents) ready[nr++] = &slots[which[k]];
    complete(ready, nr);
  }
  return NULL;
}

/* Under mu. */
static bool start_thread(void) {
  if (started) return true;
  if (wake_fd < 0) wake_fd = ours(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (pl_kick_fd < 0) __atomic_store_n(&pl_kick_fd, ours(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)), __ATOMIC_SEQ_CST);
  if (wake_fd < 0 || pl_kick_fd < 0) return false;
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_t t;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  started = pthread_create(&t, &attr, completer, NULL) == 0;
  pthread_attr_destroy(&attr);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return started;
}

int pl_pending_start(int fd, struct pl_fdobj *o, const pl_msg *req) {
  pthread_mutex_lock(&mu);
  struct slot *s = NULL;
  for (int i = 0; i < PENDING_MAX && !s; i++)
    if (!slots[i].used) s = &slots[i];
  if (!s || !start_thread()) {
    pthread_mutex_unlock(&mu);
    return EAGAIN; /* connect synchronously instead */
  }
  s->used = true;
  s->rpc = s->dup = -1;
  /* From now on pollers of a set holding this socket can be kicked out of the kernel (hooks_poll.c). */
  __atomic_add_fetch(&pl_pending_count, 1, __ATOMIC_SEQ_CST);
  pthread_mutex_unlock(&mu);

  /* The placeholder: a listener that drops every packet polls as "nothing yet", like a SYN in flight. */
  pl_set_filter(fd, true);
  if (listen(fd, 1) != 0) {
    pl_set_filter(fd, false);
    pthread_mutex_lock(&mu);
    free_slot(s);
    pthread_mutex_unlock(&mu);
    return EAGAIN;
  }
  pl_msg copy = *req;
  int rpc = pl_rpc_dedicated(&copy);
  int dup = rpc >= 0 ? ours(pl_real.fcntl(fd, F_DUPFD_CLOEXEC, 0)) : -1;
  if (rpc < 0 || dup < 0) {
    struct sockaddr unspec = {.sa_family = AF_UNSPEC};
    pl_set_filter(fd, false);
    pl_real.connect(fd, &unspec, sizeof unspec);
    pl_rpc_drop(rpc);
    pthread_mutex_lock(&mu);
    free_slot(s);
    pthread_mutex_unlock(&mu);
    return rpc < 0 ? ECONNREFUSED : EMFILE;
  }
  pthread_mutex_lock(&mu);
  s->app_fd = fd;
  s->rpc = rpc;
  s->dup = dup;
  s->family = o->sock_family;
  s->id = copy.id;
  s->o = o;
  o->pslot = (int)(s - slots);
  pthread_mutex_unlock(&mu);
  wake();
  return 0;
}

/* From the close path (silent): the entry is about to be freed. */
void pl_pending_cancel(struct pl_fdobj *o) {
  pthread_mutex_lock(&mu);
  if (o->pslot >= 0 && o->pslot < PENDING_MAX && slots[o->pslot].o == o) {
    slots[o->pslot].o = NULL;
    slots[o->pslot].cancelled = true;
  }
  o->pslot = -1;
  pthread_cond_broadcast(&changed);
  pthread_mutex_unlock(&mu);
  wake();
}

void pl_pending_atfork_prepare(void) { pthread_mutex_lock(&mu); }
void pl_pending_atfork_parent(void) { pthread_mutex_unlock(&mu); }

/* The child has no completer: the parent's finishes these sockets (the child shares them). The child
 * forgets them and closes its copies of our descriptors, so the parent's hang-up still reaches the
 * intproxy. */
void pl_pending_atfork_child(void) {
  pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t fresh_cv = PTHREAD_COND_INITIALIZER;
  mu = fresh;
  changed = fresh_cv;
  for (int i = 0; i < PENDING_MAX; i++) {
    struct slot *s = &slots[i];
    if (!s->used) continue;
    if (s->o && (unsigned)s->app_fd < PL_FD_MAX && pl_fds[s->app_fd] == s->o) pl_fds[s->app_fd] = NULL;
    free_slot(s);
  }
  if (started) {
    drop(wake_fd);
    wake_fd = -1;
    drop(pl_kick_fd);
    pl_kick_fd = -1;
    started = false;
  }
  /* Only the forking thread lives on, and it is not waiting. */
  memset(pl_waiters, 0, sizeof pl_waiters);
  pl_switch_wanted = 0;
  pl_pending_count = 0;
}
