/* Snippet: pselect: waits for a non-blocking remote connect completed in the background; the socket is
 * reported writable (never a transient hang-up), SO_ERROR is 0 and the remote answers; a set passed
 * twice is answered as the kernel answers it. */
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
  /* One set for writing and exceptions, as Perl's IO::Socket::IP passes it: the kernel counts both
   * sets' answers (1: writable) and copies the exceptions out last (the bit ends cleared). */
  int s2 = nb_connect("aliased", "PL_T_TCP");
  fd_set wx;
  FD_ZERO(&wx);
  FD_SET(s2, &wx);
  /* (through a pointer: the prototype says restrict, which such callers ignore) */
  int (*volatile call)(int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *) = pselect;
  printf("aliased_ready=%d\n", call(s2 + 1, NULL, &wx, &wx, NULL, NULL));
  printf("aliased_bit=%d\n", FD_ISSET(s2, &wx) ? 1 : 0);
  close(s2);
}
