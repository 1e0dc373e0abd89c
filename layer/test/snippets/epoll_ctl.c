/* Snippet: epoll_ctl: a non-blocking remote connect completed in the background, waited for with epoll (the
 * registration's data comes back; the event is writable, never a transient hang-up). */
#include <sys/epoll.h>

#include "snippet.h"

SNIPPET_BODY {
  int s = nb_connect("ok", "PL_T_TCP");
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = 0x5eed};
  print_rc("epoll_ctl", epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev));
  memset(&ev, 0, sizeof ev);
  printf("ready=%d\n", epoll_wait(ep, &ev, 1, -1));
  printf("revents_out=%d\n", (ev.events & EPOLLOUT) && !(ev.events & EPOLLHUP) && ev.data.u64 == 0x5eed);
  print_so_error("so_error", s);
  print_greeting(s);
  close(ep);
  close(s);
}
