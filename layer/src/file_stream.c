/* Remote files read while they arrive.
 *
 *   open (hooks_file.c)                    fetching threads (FETCHERS per stream, detached)
 *   ReadFile(0, 1 MiB) → memfd             each claims the next 4 MiB chunk: ReadFile(off, 4 MiB) →
 *   memfd sized to the remote size           memcpy into the shared mapping of the memfd → once the
 *   ◀ fd (the app reads at once)             chunks before it are in too, `filled` advances and waiting
 *                                            readers wake; the last thread out unmaps: done
 *
 * A read, pread, mmap, sendfile… of the descriptor (hooks_read.c) that reaches past `filled` waits on
 * the stream's condition variable; once the stream is done every hook passes straight through. The
 * memfd is sized up front, so fstat and lseek(SEEK_END) already tell the remote size. Only descriptors
 * opened close-on-exec stream (an exec'd program could not wait for the rest): see hooks_file.c, and
 * hooks_fd.c for dup and F_SETFD, which let the rest arrive first when they make a copy that an exec
 * would keep. fork waits for every stream (guard.c), because the child has no fetching thread.
 * The last descriptor's close stops the fetching after the chunks in flight. A file that turns out
 * shorter than its size at open (it changed meanwhile) fails the reads past what arrived with EIO,
 * never with zeros. */
#include "file_stream.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "real.h"
#include "rpc.h"

enum { S_RUNNING, S_DONE, S_FAILED };

/* Chunks in flight at once, each on a thread of its own (and so on an RPC connection of its own):
 * one round trip's wait is hidden behind the others' transfers. */
#define FETCHERS 3

struct pl_stream {
  int refs;        /* the descriptor's fd object (shared by its dups), plus each running thread */
  int descriptors; /* 1 until that object is finalised (the last close): 0 stops the fetching */
  uint8_t *map;    /* MAP_SHARED over the memfd, [0, size); unmapped by the last thread */
  uint64_t size;
  uint64_t base;     /* where the chunks start (the open fetched [0, base)) */
  uint32_t nchunks;  /* of PL_MAX_FILE_CHUNK from base */
  uint32_t next;     /* the next chunk to claim (atomic) */
  uint8_t *arrived;  /* per chunk, under mu */
  uint32_t prefix;   /* chunks arrived in a row from the first, under mu */
  uint64_t filled;   /* [0, filled) has arrived (atomic; written under mu) */
  int threads;       /* still fetching, under mu */
  int state;         /* atomic */
  int err;           /* the first failure, under mu */
  char *path;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct pl_stream *next_running; /* in `running`, while any thread runs */
};

static pthread_mutex_t list_mu = PTHREAD_MUTEX_INITIALIZER;
static struct pl_stream *running;

bool pl_stream_running(const struct pl_stream *s) { return __atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == S_RUNNING; }

static void release(struct pl_stream *s) {
  if (__atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0) return;
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
  free(s->arrived);
  free(s->path);
  free(s);
}

void pl_stream_unref(struct pl_stream *s) {
  __atomic_store_n(&s->descriptors, 0, __ATOMIC_RELEASE); /* the threads stop after their chunks */
  release(s);
}

/* One chunk: fetched and copied into the mapping. 0, or an errno. */
static int fetch_chunk(struct pl_stream *s, uint32_t k) {
  uint64_t off = s->base + (uint64_t)k * PL_MAX_FILE_CHUNK;
  uint64_t want = s->size - off < PL_MAX_FILE_CHUNK ? s->size - off : PL_MAX_FILE_CHUNK;
  pl_msg req = {.type = PL_MSG_READ_FILE};
  req.u.read_file.path = pl_str(s->path, strlen(s->path));
  req.u.read_file.offset = off;
  req.u.read_file.max = (uint32_t)want;
  struct pl_resp resp;
  int r = pl_rpc(&req, PL_MSG_FILE_DATA, &resp);
  if (r == 0) {
    pl_bytes d = resp.msg.u.file_data.data;
    memcpy(s->map + off, d.p, d.len < want ? d.len : want);
    if (d.len < want) r = EIO; /* the file is shorter than it was at open: it changed meanwhile */
  }
  pl_resp_free(&resp);
  return pl_rpc_gone(r) ? EIO : r;
}

/* The last thread out: the mapping goes, the stream is done (or failed), the waiters are told. */
static void finish(struct pl_stream *s) {
  munmap(s->map, s->size);
  s->map = NULL;
  pthread_mutex_lock(&list_mu);
  for (struct pl_stream **p = &running; *p; p = &(*p)->next_running)
    if (*p == s) {
      *p = s->next_running;
      break;
    }
  pthread_mutex_unlock(&list_mu);
  pthread_mutex_lock(&s->mu);
  bool all = s->prefix == s->nchunks;
  if (all) __atomic_store_n(&s->filled, s->size, __ATOMIC_RELEASE);
  else if (!s->err) s->err = EIO; /* stopped early: nobody was left to read it */
  __atomic_store_n(&s->state, all ? S_DONE : S_FAILED, __ATOMIC_RELEASE);
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
}

/* A fetching thread: claims chunk after chunk; each lands in the mapping and is published once every
 * chunk before it has landed too. */
static void *fetch(void *arg) {
  struct pl_stream *s = arg;
  pl_guard = 1; /* its own libc calls go straight to the real functions */
  for (;;) {
    pthread_mutex_lock(&s->mu);
    bool stop = s->err != 0 || __atomic_load_n(&s->descriptors, __ATOMIC_ACQUIRE) == 0;
    pthread_mutex_unlock(&s->mu);
    uint32_t k = stop ? s->nchunks : __atomic_fetch_add(&s->next, 1, __ATOMIC_ACQ_REL);
    if (k >= s->nchunks) break;
    int err = fetch_chunk(s, k);
    pthread_mutex_lock(&s->mu);
    if (err && !s->err) s->err = err;
    if (!err) s->arrived[k] = 1;
    while (s->prefix < s->nchunks && s->arrived[s->prefix]) s->prefix++;
    uint64_t filled = s->base + (uint64_t)s->prefix * PL_MAX_FILE_CHUNK;
    __atomic_store_n(&s->filled, filled < s->size ? filled : s->size, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
  }
  pthread_mutex_lock(&s->mu);
  bool last = --s->threads == 0;
  pthread_mutex_unlock(&s->mu);
  if (last) finish(s);
  release(s);
  return NULL;
}

struct pl_stream *pl_stream_start(int memfd, const char *path, const pl_stat *st, uint64_t from) {
  struct pl_stream *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->size = st->size;
  s->base = s->filled = from;
  s->nchunks = (uint32_t)((s->size - from + PL_MAX_FILE_CHUNK - 1) / PL_MAX_FILE_CHUNK);
  s->descriptors = 1;
  s->refs = 1;
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
  if (!(s->path = strdup(path)) || !(s->arrived = calloc(s->nchunks, 1))) goto fail;
  s->map = pl_real.mmap(NULL, s->size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
  if (s->map == MAP_FAILED) goto fail;
  pthread_mutex_lock(&list_mu);
  s->next_running = running;
  running = s;
  pthread_mutex_unlock(&list_mu);
  /* The threads take no signal: the app's handlers run on the app's threads. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  int want = s->nchunks < FETCHERS ? (int)s->nchunks : FETCHERS;
  pthread_mutex_lock(&s->mu);
  for (int i = 0; i < want; i++) {
    pthread_t t;
    __atomic_add_fetch(&s->refs, 1, __ATOMIC_ACQ_REL);
    s->threads++;
    if (pthread_create(&t, &attr, fetch, s) != 0) {
      s->threads--;
      __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL);
      break;
    }
  }
  int started = s->threads;
  pthread_mutex_unlock(&s->mu);
  pthread_attr_destroy(&attr);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (started) return s;
  finish(s); /* no thread: the stream fails at once, and the caller fetches the rest itself */
  release(s);
  return NULL;
fail:
  if (s->map && s->map != MAP_FAILED) munmap(s->map, s->size);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
  free(s->arrived);
  free(s->path);
  free(s);
  return NULL;
}

int pl_stream_wait(struct pl_stream *s, uint64_t end) {
  if (end > s->size) end = s->size;
  if (__atomic_load_n(&s->filled, __ATOMIC_ACQUIRE) >= end) return 0;
  pthread_mutex_lock(&s->mu);
  while (__atomic_load_n(&s->filled, __ATOMIC_ACQUIRE) < end && __atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == S_RUNNING)
    pthread_cond_wait(&s->cv, &s->mu);
  int r = __atomic_load_n(&s->filled, __ATOMIC_ACQUIRE) >= end ? 0 : s->err ? s->err : EIO;
  pthread_mutex_unlock(&s->mu);
  return r;
}

void pl_stream_settle_all(void) {
  for (;;) {
    pthread_mutex_lock(&list_mu);
    struct pl_stream *s = running;
    while (s && __atomic_load_n(&s->descriptors, __ATOMIC_ACQUIRE) == 0) s = s->next_running; /* stopping anyway */
    if (s) __atomic_add_fetch(&s->refs, 1, __ATOMIC_ACQ_REL);
    pthread_mutex_unlock(&list_mu);
    if (!s) return;
    (void)pl_stream_wait_all(s);
    release(s);
  }
}
