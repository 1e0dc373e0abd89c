/* Snippet: getpeername reports the remote, not the intproxy endpoint; unconnected sockets still fail. */
#include "snippet.h"

static int tcp_connect(void) {
  struct sockaddr_in sa = T_ADDR("PL_T_TCP");
  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(s, (struct sockaddr *)&sa, sizeof sa) != 0) {
    printf("connect=ERR:%s\n", strerror(errno));
    return -1;
  }
  return s;
}
static void peer(const char *tag, int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0) printf("%s=ERR:%s\n", tag, strerror(errno));
  else print_sockaddr(tag, (struct sockaddr *)&ss);
}

SNIPPET_BODY {
  int s = tcp_connect();
  if (s < 0) return;
  peer("peer", s);
  struct sockaddr_in small;
  socklen_t len = 4;
  getpeername(s, (struct sockaddr *)&small, &len);
  printf("full_len=%u\n", (unsigned)len);
  close(s);
  int u = socket(AF_INET, SOCK_STREAM, 0);
  peer("unconnected", u);
  close(u);
}
