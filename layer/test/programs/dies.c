/* The intproxy goes away mid-session: phase 1 works, then (once the test has killed the intproxy and
 * created the marker file) every remote call must fail fast with the documented error. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static void phase(const char *tag) {
  int fd = open(getenv("PL_T_FILE"), O_RDONLY);
  char buf[64] = "";
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
  printf("%s_open=%s\n", tag, fd >= 0 && n > 0 ? "ok" : strerror(errno));
  if (fd >= 0) close(fd);
  struct stat st;
  printf("%s_stat=%s\n", tag, stat(getenv("PL_T_FILE"), &st) == 0 ? "ok" : strerror(errno));
  struct addrinfo *res = NULL;
  int rc = getaddrinfo(getenv("PL_T_HOST"), NULL, NULL, &res);
  printf("%s_getaddrinfo=%s\n", tag, rc == 0 ? "ok" : rc == EAI_AGAIN ? "EAI_AGAIN" : gai_strerror(rc));
  if (res) freeaddrinfo(res);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(8080)};
  inet_pton(AF_INET, "10.77.0.10", &sa.sin_addr);
  int s = socket(AF_INET, SOCK_STREAM, 0);
  printf("%s_connect=%s\n", tag, connect(s, (struct sockaddr *)&sa, sizeof sa) == 0 ? "ok" : strerror(errno));
  close(s);
  fflush(stdout);
}

int main(int argc, char **argv) {
  phase("before");
  if (argc < 2) return 0;
  printf("waiting\n");
  fflush(stdout);
  while (access(argv[1], F_OK) != 0) usleep(10000);
  phase("after");
  return 0;
}
