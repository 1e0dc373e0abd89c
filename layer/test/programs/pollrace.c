/* Stress program: waits for non-blocking remote connects in every way an app can (poll, select, epoll
 * level- and edge-triggered, EPOLLONESHOT, several epoll sets, a thread already blocked in epoll_wait,
 * registrations made before connect or racing with its completion) and counts every event that is not
 * what a kernel connect gives: a hang-up, an error or RDHUP on a socket whose remote is alive, wrong
 * epoll data, no data to read after "readable", or a wait that never ends.
 *
 *   prog_pollrace IP:PORT ROUNDS [greeting]
 *
 * "greeting": the remote speaks first (the scripted intproxy's remotes), so waits for POLLIN alone are
 * tried too; otherwise (an HTTP server) a request is written once the socket is writable.
 * Prints one line per scenario, "scenario=NAME runs=R bad=B", then "total_bad=N". Exit status 0 unless
 * the program itself could not run (a connect that fails outright, for instance). */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 10000
#define BAD_EV (EPOLLHUP | EPOLLERR | EPOLLRDHUP)

static struct sockaddr_in target;
static int greeting;

enum { S_POLL_OUT, S_POLL_IN, S_SELECT_W, S_SELECT_R, S_EP_BEFORE, S_EP_AFTER, S_EP_ET, S_EP_ONESHOT,
       S_EP_TWO_SETS, S_EP_BLOCKED, S_EP_RACE, S_N };
static const char *names[S_N] = {"poll_out", "poll_in", "select_write", "select_read", "epoll_before_connect",
                                 "epoll_after_connect", "epoll_edge", "epoll_oneshot", "epoll_two_sets",
                                 "epoll_thread_blocked", "epoll_racing_register"};
static int runs[S_N];
static atomic_int bad[S_N];
static int verbose;

static void fail(int s, const char *what) {
  bad[s]++;
  if (verbose) fprintf(stderr, "pollrace: %s: %s\n", names[s], what);
}

static int nb_socket(void) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s < 0) {
    perror("socket");
    exit(2);
  }
  return s;
}

static void start_connect(int s) {
  if (connect(s, (struct sockaddr *)&target, sizeof target) == 0 || errno == EINPROGRESS) return;
  perror("connect");
  exit(2);
}

/* After the wait said "connected": SO_ERROR is 0, and the remote's first bytes can be read. */
static void check_alive(int sc, int s) {
  int err = -1;
  socklen_t l = sizeof err;
  if (getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &l) != 0 || err != 0) return fail(sc, "SO_ERROR after ready");
  if (!greeting) {
    static const char req[] = "GET / HTTP/1.0\r\n\r\n";
    if (send(s, req, sizeof req - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof req - 1)) return fail(sc, "send after ready");
  }
  struct pollfd p = {.fd = s, .events = POLLIN};
  char buf[64];
  if (poll(&p, 1, WAIT_MS) != 1 || recv(s, buf, sizeof buf, 0) <= 0) fail(sc, "no data from the remote");
}

/* poll for `events` until ready; a first answer with HUP/ERR is a transient. */
static void run_poll(int sc, short events) {
  int s = nb_socket();
  start_connect(s);
  struct pollfd p = {.fd = s, .events = events};
  int rc = poll(&p, 1, WAIT_MS);
  if (rc != 1) fail(sc, rc == 0 ? "poll timed out (lost event)" : "poll failed");
  else if (p.revents & (POLLHUP | POLLERR | POLLNVAL | POLLRDHUP)) fail(sc, "transient hang-up/error");
  else if (!(p.revents & events)) fail(sc, "revents without the asked events");
  else check_alive(sc, s);
  close(s);
}

static void run_select(int sc, int write) {
  int s = nb_socket();
  start_connect(s);
  fd_set set;
  FD_ZERO(&set);
  FD_SET(s, &set);
  struct timeval tv = {.tv_sec = WAIT_MS / 1000};
  int rc = select(s + 1, write ? NULL : &set, write ? &set : NULL, NULL, &tv);
  if (rc != 1 || !FD_ISSET(s, &set)) {
    fail(sc, rc == 0 ? "select timed out (lost event)" : "select failed");
  } else if (write) {
    check_alive(sc, s); /* writable during the transient: SO_ERROR 0 but send fails */
  } else {
    char buf[64]; /* readable during the transient: a read returns 0 or ENOTCONN */
    if (recv(s, buf, sizeof buf, MSG_DONTWAIT) <= 0) fail(sc, "readable but nothing to read");
  }
  close(s);
}

/* Waits on ep until the socket (registered with data) is writable (or readable with `in`); every event
 * seen on the way must be clean and carry data. */
static int epoll_until(int sc, int ep, uint64_t data, uint32_t want) {
  for (;;) {
    struct epoll_event ev[4];
    int n = epoll_wait(ep, ev, 4, WAIT_MS);
    if (n <= 0) return fail(sc, n == 0 ? "epoll_wait timed out (lost event)" : "epoll_wait failed"), -1;
    for (int i = 0; i < n; i++) {
      if (ev[i].data.u64 != data) return fail(sc, "event with foreign data"), -1;
      if (ev[i].events & BAD_EV) return fail(sc, "transient hang-up/error"), -1;
      if (ev[i].events & want) return 0;
    }
  }
}

static void run_epoll(int sc, uint32_t flags, int before) {
  int s = nb_socket();
  int ep = epoll_create1(EPOLL_CLOEXEC);
  uint64_t data = 0xda7a0000u + (uint64_t)sc;
  uint32_t want = greeting && (flags & EPOLLONESHOT) ? EPOLLIN : EPOLLOUT;
  struct epoll_event ev = {.events = want | EPOLLRDHUP | flags, .data.u64 = data};
  if (before) epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
  start_connect(s);
  if (!before) epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
  if (epoll_until(sc, ep, data, want) == 0) check_alive(sc, s);
  close(ep);
  close(s);
}

/* A second thread waiting on its own epoll set (or on a set it shares with the main thread). */
struct waiter {
  int ep, sc;
  uint64_t data;
  atomic_int entered;
};
static void *waiter_main(void *arg) {
  struct waiter *w = arg;
  atomic_store(&w->entered, 1);
  epoll_until(w->sc, w->ep, w->data, EPOLLOUT);
  return NULL;
}

static void run_two_sets(void) {
  int sc = S_EP_TWO_SETS, s = nb_socket();
  int ep1 = epoll_create1(EPOLL_CLOEXEC), ep2 = epoll_create1(EPOLL_CLOEXEC);
  start_connect(s);
  struct epoll_event e1 = {.events = EPOLLOUT | EPOLLRDHUP, .data.u64 = 0xa1}, e2 = {.events = EPOLLOUT | EPOLLRDHUP, .data.u64 = 0xb2};
  epoll_ctl(ep1, EPOLL_CTL_ADD, s, &e1);
  epoll_ctl(ep2, EPOLL_CTL_ADD, s, &e2);
  struct waiter w = {.ep = ep2, .sc = sc, .data = 0xb2};
  pthread_t t;
  pthread_create(&t, NULL, waiter_main, &w);
  int ok = epoll_until(sc, ep1, 0xa1, EPOLLOUT) == 0;
  pthread_join(t, NULL);
  if (ok) check_alive(sc, s);
  close(ep1);
  close(ep2);
  close(s);
}

/* A thread already sleeping in epoll_wait (on a set holding only the socket's future registration);
 * the main thread connects and registers the socket in that set. */
static void run_blocked(void) {
  int sc = S_EP_BLOCKED, s = nb_socket();
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct waiter w = {.ep = ep, .sc = sc, .data = 0xc3};
  pthread_t t;
  pthread_create(&t, NULL, waiter_main, &w);
  while (!atomic_load(&w.entered)) sched_yield();
  usleep(200); /* (only makes it likelier that the thread is inside epoll_wait already) */
  start_connect(s);
  struct epoll_event ev = {.events = EPOLLOUT | EPOLLRDHUP, .data.u64 = 0xc3};
  epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
  pthread_join(t, NULL);
  check_alive(sc, s);
  close(ep);
  close(s);
}

/* The registration races with the completion: a spin of a varying length between connect and epoll_ctl. */
static void run_race(int round) {
  int sc = S_EP_RACE, s = nb_socket();
  int ep = epoll_create1(EPOLL_CLOEXEC);
  start_connect(s);
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  long spin_ns = (long)(round * 7919 % 3000) * 1000; /* 0..3 ms */
  do clock_gettime(CLOCK_MONOTONIC, &t);
  while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < spin_ns);
  struct epoll_event ev = {.events = EPOLLOUT | EPOLLRDHUP, .data.u64 = 0xd4};
  epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
  if (epoll_until(sc, ep, 0xd4, EPOLLOUT) == 0) check_alive(sc, s);
  close(ep);
  close(s);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s IP:PORT ROUNDS [greeting]\n", argv[0]);
    return 2;
  }
  char host[64];
  snprintf(host, sizeof host, "%s", argv[1]);
  char *colon = strrchr(host, ':');
  if (!colon) return 2;
  *colon = 0;
  target.sin_family = AF_INET;
  target.sin_port = htons((unsigned short)atoi(colon + 1));
  inet_pton(AF_INET, host, &target.sin_addr);
  int rounds = atoi(argv[2]);
  greeting = argc > 3 && strcmp(argv[3], "greeting") == 0;
  verbose = getenv("POLLRACE_VERBOSE") != NULL;
  for (int r = 0; r < rounds; r++) {
    run_poll(S_POLL_OUT, POLLOUT), runs[S_POLL_OUT]++;
    if (greeting) run_poll(S_POLL_IN, POLLIN), runs[S_POLL_IN]++;
    run_select(S_SELECT_W, 1), runs[S_SELECT_W]++;
    if (greeting) run_select(S_SELECT_R, 0), runs[S_SELECT_R]++;
    run_epoll(S_EP_BEFORE, 0, 1), runs[S_EP_BEFORE]++;
    run_epoll(S_EP_AFTER, 0, 0), runs[S_EP_AFTER]++;
    run_epoll(S_EP_ET, EPOLLET, 1), runs[S_EP_ET]++;
    run_epoll(S_EP_ONESHOT, EPOLLONESHOT, 1), runs[S_EP_ONESHOT]++;
    run_two_sets(), runs[S_EP_TWO_SETS]++;
    run_blocked(), runs[S_EP_BLOCKED]++;
    run_race(r), runs[S_EP_RACE]++;
  }
  int total = 0;
  for (int i = 0; i < S_N; i++) {
    if (!runs[i]) continue;
    printf("scenario=%s runs=%d bad=%d\n", names[i], runs[i], atomic_load(&bad[i]));
    total += atomic_load(&bad[i]);
  }
  printf("total_bad=%d\n", total);
  return 0;
}
