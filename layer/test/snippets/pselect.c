/* Snippet: pselect: waits for a non-blocking remote connect completed in the background; the socket is
 * reported writable (never a transient hang-up), SO_ERROR is 0 and the remote answers. */
#include <poll.h>
#include <sys/select.h>

#include "snippet.h"

SNIPPET_BODY {
  int s = nb_connect("ok", "PL_T_TCP");
  fd_set w;
  FD_ZERO(&w);
  FD_SET(s, &w);
  int n = pselect(s + 1, NULL, &w, NULL, NULL, NULL);
  printf("ready=%d\n", n);
  printf("revents_out=%d\n", FD_ISSET(s, &w) ? 1 : 0);
  print_so_error("so_error", s);
  print_greeting(s);
  close(s);
}
