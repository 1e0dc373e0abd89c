/* Snippet: fcntl copies the layer's record of a remote TCP connection to the new descriptor. */
#include "snippet.h"

SNIPPET_BODY {
  int s = tcp_connect();
  if (s < 0) return;
  int d = fcntl(s, F_DUPFD, 200);
  peer("peer_dup", d);
  close(s);
  peer("peer_after_close_orig", d);
  char buf[128] = "";
  ssize_t n = read(d, buf, sizeof buf - 1);
  buf[n > 0 ? n : 0] = 0;
  buf[strcspn(buf, "\n")] = 0;
  printf("greeting=%s\n", buf);
  close(d);
}
