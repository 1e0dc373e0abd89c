/* Snippet: getsockopt: a non-blocking connect completes in the background; SO_ERROR reports 0, or the
 * target's errno once; connect again answers as the kernel would (0 once, then EISCONN). */
#include <poll.h>

#include "snippet.h"

SNIPPET_BODY {
  int s = nb_connect("ok", "PL_T_TCP");
  struct pollfd p = {.fd = s, .events = POLLOUT};
  poll(&p, 1, -1);
  print_so_error("so_error", s);
  peer("peer", s);
  struct sockaddr_in sa = T_ADDR("PL_T_TCP");
  print_rc("again1", connect(s, (struct sockaddr *)&sa, sizeof sa));
  print_rc("again2", connect(s, (struct sockaddr *)&sa, sizeof sa));
  print_greeting(s);
  close(s);
  int r = nb_connect("refused", "PL_T_TCP_REFUSED");
  struct pollfd q = {.fd = r, .events = POLLOUT};
  poll(&q, 1, -1);
  print_so_error("refused_so_error", r);
  struct sockaddr_in ra = T_ADDR("PL_T_TCP_REFUSED");
  print_rc("refused_again", connect(r, (struct sockaddr *)&ra, sizeof ra));
  close(r);
}
