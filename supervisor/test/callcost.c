/* Benchmark workload (bench/supervisor.ts): the cost of one kind of call, measured inside the program
 * so start-up does not count. Prints one JSON line {"op":…, "n":…, "ns_per_call":…}.
 *   callcost open PATH N      open + close
 *   callcost stat PATH N      stat (newfstatat)
 *   callcost fstat PATH N     fstat of an open file (the filter keeps it in the kernel)
 *   callcost connect IP:PORT N  TCP connect + close (IP 127.0.0.1 with PORT 0: to a listener of its own) */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 4) return 2;
  const char *op = argv[1], *arg = argv[2];
  long n = atol(argv[3]);
  struct sockaddr_in sa = {.sin_family = AF_INET};
  int fd = -1, lsn = -1;
  if (!strcmp(op, "connect")) {
    char host[64];
    snprintf(host, sizeof host, "%s", arg);
    char *colon = strchr(host, ':');
    if (!colon) return 2;
    *colon = '\0';
    inet_pton(AF_INET, host, &sa.sin_addr);
    sa.sin_port = htons((unsigned short)atoi(colon + 1));
    if (!sa.sin_port) {
      lsn = socket(AF_INET, SOCK_STREAM, 0);
      socklen_t l = sizeof sa;
      if (bind(lsn, (struct sockaddr *)&sa, sizeof sa) || listen(lsn, 4096) || getsockname(lsn, (struct sockaddr *)&sa, &l)) return perror("listen"), 1;
    }
  }
  if (!strcmp(op, "fstat") && (fd = open(arg, O_RDONLY)) < 0) return perror(arg), 1;
  double t0 = now();
  for (long i = 0; i < n; i++) {
    struct stat st;
    if (!strcmp(op, "open")) {
      int f = open(arg, O_RDONLY | O_CLOEXEC);
      if (f < 0) return perror(arg), 1;
      close(f);
    } else if (!strcmp(op, "stat")) {
      if (stat(arg, &st) != 0) return perror(arg), 1;
    } else if (!strcmp(op, "fstat")) {
      fstat(fd, &st);
    } else if (!strcmp(op, "connect")) {
      int s = socket(AF_INET, SOCK_STREAM, 0);
      if (connect(s, (struct sockaddr *)&sa, sizeof sa) != 0) return perror("connect"), 1;
      close(s);
      if (lsn >= 0) close(accept(lsn, NULL, NULL));
    } else {
      return 2;
    }
  }
  printf("{\"op\":\"%s\",\"n\":%ld,\"ns_per_call\":%.0f}\n", op, n, (now() - t0) / (double)n);
  return 0;
}
