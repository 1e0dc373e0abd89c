/* Snippet: recvfrom on a connected UDP socket (c-ares style) reports the remote as the source. */
#include "snippet.h"

static struct sockaddr_in udp_dest(void) { return T_ADDR("PL_T_UDP"); }

SNIPPET_BODY {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in dst = udp_dest();
  if (connect(s, (struct sockaddr *)&dst, sizeof dst)) printf("connect=ERR:%s\n", strerror(errno));
  print_rc("send", send(s, "hi", 2, 0));
  char buf[64] = "";
  struct sockaddr_in src;
  socklen_t len = sizeof src;
  ssize_t n = recvfrom(s, buf, sizeof buf - 1, 0, (struct sockaddr *)&src, &len);
  buf[n > 0 ? n : 0] = 0;
  printf("reply=%s\n", buf);
  print_sockaddr("from", (struct sockaddr *)&src);
  close(s);
}
