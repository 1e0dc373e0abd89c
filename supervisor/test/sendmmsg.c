#define _GNU_SOURCE
/* Test program: two datagrams to a remote in one sendmmsg (libuv sends queued UDP this way), then
 * their echoes with recvfrom: the supervisor must relay both and map the replies' source back.
 * The remote is $PL_T_UDP (ip:port). Prints sent=, then reply=…/from=… per datagram. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "remote.h"

int main(void) {
  struct sockaddr_in to;
  if (!remote_from_env("PL_T_UDP", &to)) return 2;
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct iovec v[2] = {{"one", 3}, {"two", 3}};
  struct mmsghdr m[2] = {0};
  for (int i = 0; i < 2; i++) {
    m[i].msg_hdr.msg_name = &to;
    m[i].msg_hdr.msg_namelen = sizeof to;
    m[i].msg_hdr.msg_iov = &v[i];
    m[i].msg_hdr.msg_iovlen = 1;
  }
  int n = sendmmsg(s, m, 2, 0);
  printf("sent=%d lens=%u,%u\n", n, m[0].msg_len, m[1].msg_len);
  for (int i = 0; i < n; i++) {
    char buf[64] = "";
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    ssize_t r = recvfrom(s, buf, sizeof buf - 1, 0, (struct sockaddr *)&from, &fl);
    buf[r > 0 ? r : 0] = '\0';
    char ip[32];
    inet_ntop(AF_INET, &from.sin_addr, ip, sizeof ip);
    printf("reply=%s from=%s:%d\n", buf, ip, ntohs(from.sin_port));
  }
  return 0;
}
