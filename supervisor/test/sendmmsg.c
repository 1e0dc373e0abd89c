#define _GNU_SOURCE
/* Test program: two datagrams to a remote in one sendmmsg (libuv sends queued UDP this way), then
 * their echoes with recvfrom: the supervisor must relay both and map the replies' source back.
 * The remote is $PL_T_UDP (ip:port). Prints sent=, then reply=…/from=… per datagram. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int main(void) {
  const char *t = getenv("PL_T_UDP");
  if (!t) return 2;
  char host[64];
  snprintf(host, sizeof host, "%s", t);
  char *colon = strchr(host, ':');
  if (!colon) return 2;
  *colon = '\0';
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(colon + 1))};
  inet_pton(AF_INET, host, &to.sin_addr);
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
