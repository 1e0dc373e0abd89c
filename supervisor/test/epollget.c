/* Test program: an event-loop HTTP client in C. A non-blocking socket with options set and registered
 * in epoll before connect; connect (EINPROGRESS); EPOLLOUT; SO_ERROR; send a GET; read the response as
 * epoll reports it readable. Prints the connect result, the events, the options and the response body,
 * so a run under the layer and one under the supervisor can be compared.
 *   epollget IP PORT PATH */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 4) return 2;
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[2]))};
  inet_pton(AF_INET, argv[1], &to.sin_addr);
  int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = 42};
  epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
  int rc = connect(s, (struct sockaddr *)&to, sizeof to);
  printf("connect=%s\n", rc == 0 ? "0" : errno == EINPROGRESS ? "EINPROGRESS" : strerror(errno));
  int n = epoll_wait(ep, &ev, 1, 30000);
  int err = -1, nodelay = -1;
  socklen_t l = sizeof err;
  getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &l);
  l = sizeof nodelay;
  getsockopt(s, IPPROTO_TCP, TCP_NODELAY, &nodelay, &l);
  printf("writable=%d data=%llu hup=%d so_error=%d nodelay=%d\n", n == 1 && (ev.events & EPOLLOUT), (unsigned long long)ev.data.u64,
         !!(ev.events & (EPOLLHUP | EPOLLERR)), err, nodelay);
  struct sockaddr_in peer;
  l = sizeof peer;
  char ip[32] = "?";
  if (getpeername(s, (struct sockaddr *)&peer, &l) == 0) inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof ip);
  printf("peer=%s:%d\n", ip, ntohs(peer.sin_port));
  char req[256];
  int len = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", argv[3], argv[1]);
  if (write(s, req, (size_t)len) != len) return perror("write"), 1;
  ev.events = EPOLLIN;
  epoll_ctl(ep, EPOLL_CTL_MOD, s, &ev);
  char buf[8192];
  size_t have = 0;
  for (;;) {
    if (epoll_wait(ep, &ev, 1, 30000) != 1) break;
    ssize_t r = read(s, buf + have, sizeof buf - 1 - have);
    if (r > 0) have += (size_t)r;
    else if (r == 0 || errno != EAGAIN) break;
  }
  buf[have] = '\0';
  char *body = strstr(buf, "\r\n\r\n");
  printf("status=%.*s\nbody=%s", (int)strcspn(buf, "\r"), buf, body ? body + 4 : "");
  return 0;
}
