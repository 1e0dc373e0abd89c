/* Snippet: getpeername reports the remote, not the intproxy endpoint; unconnected sockets still fail. */
#include "snippet.h"

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
