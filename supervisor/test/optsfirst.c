/* Test program: options and an epoll registration made BEFORE a non-blocking connect to a remote must
 * survive it (the supervisor connects the program's own socket, never a replacement), and the connect
 * must stay non-blocking. The remote is $PL_T_TCP (ip:port), which greets. Prints key=value lines. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "remote.h"

static int opt(int s, int level, int name) {
  int v = -1;
  socklen_t l = sizeof v;
  getsockopt(s, level, name, &v, &l);
  return v;
}

int main(void) {
  struct sockaddr_in to;
  if (!remote_from_env("PL_T_TCP", &to)) return 2;
  int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
  setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct stat before, after;
  fstat(s, &before);
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLOUT | EPOLLET, .data.u64 = 0xfeed};
  epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
  int rc = connect(s, (struct sockaddr *)&to, sizeof to);
  printf("connect=%s\n", rc == 0 ? "0" : errno == EINPROGRESS ? "EINPROGRESS" : strerror(errno));
  memset(&ev, 0, sizeof ev);
  int n = epoll_wait(ep, &ev, 1, 20000);
  printf("ready=%d data=%llx out=%d hup=%d\n", n, (unsigned long long)ev.data.u64, !!(ev.events & EPOLLOUT), !!(ev.events & (EPOLLHUP | EPOLLERR)));
  printf("so_error=%d\n", opt(s, SOL_SOCKET, SO_ERROR));
  fstat(s, &after);
  printf("same_socket=%d keepalive=%d nodelay=%d nonblock=%d\n", before.st_ino == after.st_ino, opt(s, SOL_SOCKET, SO_KEEPALIVE),
         opt(s, IPPROTO_TCP, TCP_NODELAY), !!(fcntl(s, F_GETFL) & O_NONBLOCK));
  fcntl(s, F_SETFL, 0);
  char buf[128] = "";
  ssize_t r = read(s, buf, sizeof buf - 1);
  buf[r > 0 ? r : 0] = '\0';
  buf[strcspn(buf, "\n")] = '\0';
  printf("greeting=%s\n", buf);
  return 0;
}
