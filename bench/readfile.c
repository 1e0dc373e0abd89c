/* Reads a file to its end and says when the bytes came: one JSON line on stdout,
 *   {"open_us":…,"first_us":…,"end_us":…,"bytes":…,"sum":"…"}
 * times from just before open; sum is a cheap checksum of the content (64-bit words, each xor'ed with
 * its index, added up; a tail shorter than a word is added as bytes): enough to tell that two reads
 * got the same bytes, and cheap enough not to slow the read down.
 *
 *   readfile PATH [cloexec|inherit] [BUFSIZE]
 * cloexec (default) opens with O_CLOEXEC, as node, python, Go and Rust do; inherit without it.
 * Built by the benchmarks: gcc -O2 -o dist/bench/readfile bench/readfile.c */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: readfile PATH [cloexec|inherit] [BUFSIZE]\n");
    return 2;
  }
  int flags = O_RDONLY | (argc > 2 && strcmp(argv[2], "inherit") == 0 ? 0 : O_CLOEXEC);
  size_t bufsize = argc > 3 ? (size_t)atol(argv[3]) : 128 * 1024;
  char *buf = malloc(bufsize);
  double t0 = now_us();
  int fd = open(argv[1], flags);
  if (fd < 0) {
    perror(argv[1]);
    return 1;
  }
  double t_open = now_us(), t_first = 0;
  uint64_t sum = 0, total = 0, idx = 0;
  for (;;) {
    ssize_t n = read(fd, buf, bufsize);
    if (n < 0) {
      perror("read");
      return 1;
    }
    if (n == 0) break;
    if (!total) t_first = now_us();
    size_t words = (size_t)n / 8;
    for (size_t i = 0; i < words; i++) {
      uint64_t w;
      memcpy(&w, buf + 8 * i, 8);
      sum += w ^ (idx + i);
    }
    idx += words;
    for (ssize_t i = (ssize_t)words * 8; i < n; i++) sum += (unsigned char)buf[i];
    total += (uint64_t)n;
  }
  double t_end = now_us();
  printf("{\"open_us\":%.0f,\"first_us\":%.0f,\"end_us\":%.0f,\"bytes\":%llu,\"sum\":\"%016llx\"}\n", t_open - t0, t_first - t0, t_end - t0,
         (unsigned long long)total, (unsigned long long)sum);
  return 0;
}
