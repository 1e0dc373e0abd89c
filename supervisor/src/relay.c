/* The bytes of a connection completed in the background (nbconnect.c): between I (the program's peer)
 * and J (connected to the intproxy's endpoint). Two threads per connection, one per direction, each
 * moving data with splice through a pipe of its own (no copy through user space). End of stream is a
 * half-close on the other side (shutdown SHUT_WR); an error (a reset) resets the other side (SO_LINGER 0
 * on its close), so the program sees ECONNRESET when the target's end was reset, and the target's end
 * is reset when the program resets. The last direction to finish closes both sockets. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sup.h"

struct relay {
  int a, b;
  atomic_int left;    /* directions still running */
  atomic_bool reset_a; /* close a with a reset (the other side failed) */
  atomic_bool reset_b;
};

struct dir {
  struct relay *r;
  int from, to;
  atomic_bool *reset_to, *reset_from;
};

static void finish(struct relay *r) {
  if (atomic_fetch_sub(&r->left, 1) != 1) return;
  struct linger now = {1, 0};
  if (atomic_load(&r->reset_a)) setsockopt(r->a, SOL_SOCKET, SO_LINGER, &now, sizeof now);
  if (atomic_load(&r->reset_b)) setsockopt(r->b, SOL_SOCKET, SO_LINGER, &now, sizeof now);
  close(r->a);
  close(r->b);
  free(r);
}

/* Moves from → to until the end of from's stream. Returns 0, or the errno that ended it. */
static int pump(int from, int to, int pipe_r, int pipe_w, bool *write_failed) {
  for (;;) {
    ssize_t in = splice(from, NULL, pipe_w, NULL, 1 << 20, SPLICE_F_MOVE);
    if (in == 0) return 0;
    if (in < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    while (in > 0) {
      ssize_t out = splice(pipe_r, NULL, to, NULL, (size_t)in, SPLICE_F_MOVE);
      if (out < 0 && errno == EINTR) continue;
      if (out <= 0) {
        *write_failed = true;
        return out < 0 ? errno : EPIPE;
      }
      in -= out;
    }
  }
}

static void *run(void *arg) {
  struct dir *d = arg;
  struct relay *r = d->r;
  int p[2];
  int err = EMFILE;
  bool write_failed = false;
  if (pipe2(p, O_CLOEXEC) == 0) {
    err = pump(d->from, d->to, p[0], p[1], &write_failed);
    close(p[0]);
    close(p[1]);
  }
  if (err == 0) {
    shutdown(d->to, SHUT_WR); /* a half-close travels on */
  } else {
    /* Reading failed (reset): reset the other side. Writing failed: the other side is gone, reset ours. */
    atomic_store(write_failed ? d->reset_from : d->reset_to, true);
    shutdown(d->from, SHUT_RD); /* wake the other direction, blocked reading one of them */
    shutdown(d->to, SHUT_RD);
  }
  free(d);
  finish(r);
  return NULL;
}

static bool start(struct relay *r, int from, int to, atomic_bool *reset_to, atomic_bool *reset_from) {
  struct dir *d = malloc(sizeof *d);
  if (!d) return false;
  *d = (struct dir){r, from, to, reset_to, reset_from};
  pthread_t t;
  pthread_attr_t at;
  pthread_attr_init(&at);
  pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&at, 64 * 1024);
  bool ok = pthread_create(&t, &at, run, d) == 0;
  pthread_attr_destroy(&at);
  if (!ok) free(d);
  return ok;
}

void sup_relay_add(int a, int b) {
  struct relay *r = calloc(1, sizeof *r);
  if (!r) {
    close(a);
    close(b);
    return;
  }
  r->a = a, r->b = b;
  atomic_init(&r->left, 2);
  if (!start(r, a, b, &r->reset_b, &r->reset_a)) {
    atomic_store(&r->reset_a, true), atomic_store(&r->reset_b, true);
    atomic_store(&r->left, 1);
    finish(r);
    return;
  }
  if (!start(r, b, a, &r->reset_a, &r->reset_b)) {
    atomic_store(&r->reset_a, true), atomic_store(&r->reset_b, true);
    shutdown(a, SHUT_RDWR);
    finish(r);
  }
}
