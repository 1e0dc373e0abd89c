/* Snippet: sendmsg/recvmsg with a remote UDP destination. */
#include "snippet.h"

static struct sockaddr_in udp_dest(void) { return T_ADDR("PL_T_UDP"); }

SNIPPET_BODY {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in dst = udp_dest();
  struct iovec iov = {.iov_base = "msg", .iov_len = 3};
  struct msghdr mh = {.msg_name = &dst, .msg_namelen = sizeof dst, .msg_iov = &iov, .msg_iovlen = 1};
  print_rc("sendmsg", sendmsg(s, &mh, 0));
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
