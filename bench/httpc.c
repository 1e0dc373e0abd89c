/* A light HTTP/1.1 client for latency benchmarks: sequential GETs, one JSON line of per-request
 * latencies in microseconds on stdout (the first WARMUP requests are made but not reported).
 *
 *   httpc HOST PORT PATH COUNT keepalive|close [WARMUP]
 *
 * keepalive: one connection, a request after each whole answer (Content-Length bodies).
 * close:     per request getaddrinfo + socket + connect + GET + read to EOF + close, as a client
 *            without a connection pool does; the latency covers all of it.
 * Built by the benchmarks: gcc -O2 -o dist/bench/httpc bench/httpc.c */
#define _GNU_SOURCE
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *host, *port, *path;
static char req[512];
static int reqlen;

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static void die(const char *what) {
  perror(what);
  exit(1);
}

static int dial(void) {
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
  int r = getaddrinfo(host, port, &hints, &ai);
  if (r) {
    fprintf(stderr, "httpc: %s: %s\n", host, gai_strerror(r));
    exit(1);
  }
  int fd = socket(ai->ai_family, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) die("connect");
  freeaddrinfo(ai);
  return fd;
}

static void send_all(int fd) {
  for (int off = 0; off < reqlen;) {
    ssize_t n = write(fd, req + off, (size_t)(reqlen - off));
    if (n <= 0) die("write");
    off += (int)n;
  }
}

/* Reads one answer: headers, then Content-Length bytes of body (or to EOF without one, or with
 * to_eof). Answers here are small; the header must fit in the buffer. */
static void read_answer(int fd, int to_eof) {
  static char buf[65536];
  size_t have = 0;
  long left = -1; /* body bytes still to come, once the header is in */
  for (;;) {
    ssize_t n = read(fd, buf + (left < 0 ? have : 0), left < 0 ? sizeof buf - have - 1 : sizeof buf);
    if (n < 0) die("read");
    if (n == 0) {
      if (to_eof || left < 0) return;
      fprintf(stderr, "httpc: connection closed mid-answer\n");
      exit(1);
    }
    if (left >= 0) {
      left -= n;
    } else {
      have += (size_t)n;
      buf[have] = '\0';
      char *end = memmem(buf, have, "\r\n\r\n", 4);
      if (!end) continue;
      char *cl = strcasestr(buf, "content-length:");
      long body = cl && cl < end ? atol(cl + 15) : -1;
      if (body < 0) left = 1L << 62; /* read to EOF */
      else left = body - (long)(have - (size_t)(end + 4 - buf));
    }
    if (left <= 0 && !to_eof) return;
  }
}

int main(int argc, char **argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: httpc HOST PORT PATH COUNT keepalive|close [WARMUP]\n");
    return 2;
  }
  host = argv[1];
  port = argv[2];
  path = argv[3];
  int count = atoi(argv[4]);
  int close_each = strcmp(argv[5], "close") == 0;
  int warmup = argc > 6 ? atoi(argv[6]) : 0;
  reqlen = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n", path, host, close_each ? "Connection: close\r\n" : "");
  double *lat = malloc(sizeof(double) * (size_t)count);
  int fd = close_each ? -1 : dial();
  for (int i = 0; i < warmup + count; i++) {
    double t0 = now_us();
    if (close_each) fd = dial();
    send_all(fd);
    read_answer(fd, close_each);
    if (close_each) close(fd);
    if (i >= warmup) lat[i - warmup] = now_us() - t0;
  }
  if (!close_each) close(fd);
  putchar('[');
  for (int i = 0; i < count; i++) printf("%s%.1f", i ? "," : "", lat[i]);
  puts("]");
  return 0;
}
