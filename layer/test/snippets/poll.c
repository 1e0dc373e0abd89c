/* Snippet: poll: waits for a non-blocking remote connect completed in the background; the socket is
 * reported writable (never a transient hang-up), SO_ERROR is 0 and the remote answers. */
#include <poll.h>
#include <sys/select.h>

#include "snippet.h"

SNIPPET_BODY {
  int s = nb_connect("ok", "PL_T_TCP");
  struct pollfd p = {.fd = s, .events = POLLOUT};
  printf("ready=%d\n", poll(&p, 1, -1));
  printf("revents_out=%d\n", !!(p.revents & POLLOUT));
  print_so_error("so_error", s);
  print_greeting(s);
  close(s);
}
