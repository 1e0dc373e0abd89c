/* Snippet: recvmsg rewrites a relay's source address. */
#include "snippet.h"

static struct sockaddr_in udp_dest(void) { return T_ADDR("PL_T_UDP"); }

SNIPPET_BODY {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in dst = udp_dest();
  sendto(s, "one", 3, 0, (struct sockaddr *)&dst, sizeof dst);
  char buf[64] = "";
  struct sockaddr_in src;
  struct iovec riov = {.iov_base = buf, .iov_len = sizeof buf - 1};
  struct msghdr rh = {.msg_name = &src, .msg_namelen = sizeof src, .msg_iov = &riov, .msg_iovlen = 1};
  ssize_t n = recvmsg(s, &rh, 0);
  buf[n > 0 ? n : 0] = 0;
  printf("reply=%s\n", buf);
  print_sockaddr("from", (struct sockaddr *)&src);
  close(s);
}
