/* Receiving and answering notifications. One receiver thread takes each notification and runs its
 * handler, which decides at once for the common case (a local path, a loopback address, a socket we
 * never touched: the kernel continues the call) and hands anything that needs the intproxy to a worker
 * thread. Workers are started on demand and kept, so a slow remote connect or a large file never stalls
 * another thread's system calls. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include "sup.h"

#define MAX_WORKERS 256

static pthread_mutex_t q_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cv = PTHREAD_COND_INITIALIZER;
static struct sup_call *q_head, *q_tail;
static int n_workers, n_idle;

static void respond(struct sup_call *c, struct seccomp_notif_resp *r) {
  r->id = c->n.id;
  /* ENOENT: the target died or was interrupted (fatal signal) while we worked: nothing to answer. */
  while (ioctl(sup_listener, SECCOMP_IOCTL_NOTIF_SEND, r) != 0 && errno == EINTR) {
  }
  if (c->fd >= 0) close(c->fd);
  free(c);
}

void sup_continue(struct sup_call *c) {
  struct seccomp_notif_resp r = {.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE};
  respond(c, &r);
}

void sup_reply(struct sup_call *c, long val, int err) {
  struct seccomp_notif_resp r = {.val = err > 0 ? 0 : val, .error = err > 0 ? -err : 0};
  respond(c, &r);
}

void sup_reply_fd(struct sup_call *c, int fd, bool cloexec) {
  /* The descriptor is installed and becomes the call's return value in one step (Linux 5.14). */
  struct seccomp_notif_addfd a = {
      .id = c->n.id,
      .flags = SECCOMP_ADDFD_FLAG_SEND,
      .srcfd = (uint32_t)fd,
      .newfd_flags = cloexec ? O_CLOEXEC : 0,
  };
  int r;
  while ((r = ioctl(sup_listener, SECCOMP_IOCTL_NOTIF_ADDFD, &a)) < 0 && errno == EINTR) {
  }
  int err = errno;
  close(fd);
  if (r >= 0 || err == ENOENT) {
    if (c->fd >= 0) close(c->fd);
    free(c);
    return;
  }
  sup_reply(c, 0, err == EMFILE ? EMFILE : EIO);
}

bool sup_valid(struct sup_call *c) {
  return ioctl(sup_listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &c->n.id) == 0;
}

static void *worker(void *arg) {
  (void)arg;
  for (;;) {
    pthread_mutex_lock(&q_mu);
    n_idle++;
    while (!q_head) pthread_cond_wait(&q_cv, &q_mu);
    n_idle--;
    struct sup_call *c = q_head;
    q_head = c->next;
    if (!q_head) q_tail = NULL;
    pthread_mutex_unlock(&q_mu);
    c->work(c);
  }
  return NULL;
}

void sup_defer(struct sup_call *c, void (*work)(struct sup_call *c)) {
  c->work = work;
  c->next = NULL;
  pthread_mutex_lock(&q_mu);
  if (q_tail) q_tail->next = c;
  else q_head = c;
  q_tail = c;
  /* Never wait for a busy worker: another one takes it (up to MAX_WORKERS in flight). */
  bool spawn = n_idle == 0 && n_workers < MAX_WORKERS;
  if (spawn) n_workers++;
  pthread_cond_signal(&q_cv);
  pthread_mutex_unlock(&q_mu);
  if (spawn) {
    pthread_t t;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&at, 256 * 1024);
    if (pthread_create(&t, &at, worker, NULL) != 0) {
      pthread_mutex_lock(&q_mu);
      n_workers--;
      pthread_mutex_unlock(&q_mu);
    }
    pthread_attr_destroy(&at);
  }
}

#define A(i) (c->n.data.args[i])

static void dispatch(struct sup_call *c) {
  switch (c->n.data.nr) {
#ifdef SYS_open
    case SYS_open: return sup_on_open(c, AT_FDCWD, A(0), (int)A(1), false);
#endif
    case SYS_openat: return sup_on_open(c, (int)A(0), A(1), (int)A(2), false);
#ifdef SYS_openat2
    case SYS_openat2: return sup_on_open(c, (int)A(0), A(1), 0, true);
#endif
#ifdef SYS_stat
    case SYS_stat: return sup_on_stat(c, AT_FDCWD, A(0), 0, A(1), false, 0);
    case SYS_lstat: return sup_on_stat(c, AT_FDCWD, A(0), AT_SYMLINK_NOFOLLOW, A(1), false, 0);
#endif
#ifdef SYS_newfstatat
    case SYS_newfstatat: return sup_on_stat(c, (int)A(0), A(1), (int)A(3), A(2), false, 0);
#else
    case SYS_fstatat: return sup_on_stat(c, (int)A(0), A(1), (int)A(3), A(2), false, 0);
#endif
    case SYS_statx: return sup_on_stat(c, (int)A(0), A(1), (int)A(2), A(4), true, (unsigned)A(3));
#ifdef SYS_access
    case SYS_access: return sup_on_access(c, AT_FDCWD, A(0), (int)A(1));
#endif
    case SYS_faccessat: return sup_on_access(c, (int)A(0), A(1), (int)A(2));
#ifdef SYS_faccessat2
    case SYS_faccessat2: return sup_on_access(c, (int)A(0), A(1), (int)A(2));
#endif
#ifdef SYS_readlink
    case SYS_readlink: return sup_on_readlink(c, AT_FDCWD, A(0), A(1), (size_t)A(2));
#endif
    case SYS_readlinkat: return sup_on_readlink(c, (int)A(0), A(1), A(2), (size_t)A(3));
    case SYS_uname: return sup_on_uname(c, A(0));
    case SYS_connect: return sup_on_connect(c);
    case SYS_getpeername: return sup_on_getpeername(c);
    case SYS_listen: return sup_on_listen(c);
    case SYS_bind: return sup_on_bind(c);
    case SYS_getsockname: return sup_on_getsockname(c);
#ifdef SYS_accept
    case SYS_accept:
#endif
    case SYS_accept4: return sup_on_accept(c);
    case SYS_getsockopt: return sup_on_so_error(c);
    case SYS_sendto: return sup_on_sendto(c);
    case SYS_sendmsg: return sup_on_sendmsg(c, false);
    case SYS_sendmmsg: return sup_on_sendmsg(c, true);
    case SYS_recvfrom: return sup_on_recv(c, false);
    case SYS_recvmsg: return sup_on_recv(c, true);
    default: return sup_continue(c); /* the filter and this switch disagree: never block the program */
  }
}

void sup_serve(void) {
  struct seccomp_notif_sizes sizes = {0};
  syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes);
  /* The kernel writes its own struct size: never less room than it says. */
  size_t room = sizes.seccomp_notif > sizeof(struct seccomp_notif) ? sizes.seccomp_notif : sizeof(struct seccomp_notif);
  for (;;) {
    struct sup_call *c = calloc(1, sizeof *c + room);
    if (!c) abort();
    c->fd = -1;
    void *buf = room > sizeof c->n ? (void *)(c + 1) : (void *)&c->n;
    memset(buf, 0, room);
    while (ioctl(sup_listener, SECCOMP_IOCTL_NOTIF_RECV, buf) != 0) {
      if (errno == EINTR || errno == ENOENT) continue; /* ENOENT: the caller was gone before we got it */
      /* Never leave the program waiting for answers nobody will give: with the listener closed, every
       * notified call fails with ENOSYS at once. */
      sup_line("the supervisor of %s stopped serving (%s): its file and network calls now fail with ENOSYS",
               sup_program, strerror(errno));
      close(sup_listener);
      free(c);
      return;
    }
    if (buf != (void *)&c->n) memcpy(&c->n, buf, sizeof c->n);
    dispatch(c);
  }
}
