/* Snippet: connect: remote TCP through the intproxy (IPv4 and IPv4-mapped IPv6), refusal reported as ECONNREFUSED. */
#include "snippet.h"

SNIPPET_BODY {
  int s = tcp_connect();
  if (s < 0) return;
  peer("peer", s);
  char buf[128] = "";
  ssize_t n = read(s, buf, sizeof buf - 1);
  buf[n > 0 ? n : 0] = 0;
  buf[strcspn(buf, "\n")] = 0;
  printf("greeting=%s\n", buf);
  close(s);
  /* Java's way: an AF_INET6 socket connected to ::ffff:a.b.c.d */
  struct sockaddr_in sa4 = T_ADDR("PL_T_TCP");
  struct sockaddr_in6 sa6 = {.sin6_family = AF_INET6, .sin6_port = sa4.sin_port};
  sa6.sin6_addr.s6_addr[10] = sa6.sin6_addr.s6_addr[11] = 0xff;
  memcpy(&sa6.sin6_addr.s6_addr[12], &sa4.sin_addr, 4);
  int s6 = socket(AF_INET6, SOCK_STREAM, 0);
  if (connect(s6, (struct sockaddr *)&sa6, sizeof sa6) != 0) printf("connect6=ERR:%s\n", strerror(errno));
  peer("peer6", s6);
  n = read(s6, buf, sizeof buf - 1);
  buf[n > 0 ? n : 0] = 0;
  buf[strcspn(buf, "\n")] = 0;
  printf("greeting6=%s\n", buf);
  close(s6);
  struct sockaddr_in refused = T_ADDR("PL_T_TCP_REFUSED");
  int r = socket(AF_INET, SOCK_STREAM, 0);
  printf("refused=%s\n", connect(r, (struct sockaddr *)&refused, sizeof refused) ? strerror(errno) : "connected");
  close(r);
}
