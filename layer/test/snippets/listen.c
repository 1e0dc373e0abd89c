/* Snippet: listen announces the port (Listen) and the intproxy's delivered connection is accepted like
 * any other, its peer the remote client; a local client stays local; closing the listener sends
 * Unlisten. */
#include "snippet.h"

SNIPPET_BODY {
  int s = app_listener();
  int c = accept(s, NULL, NULL);
  print_line("delivered", c);
  peer("peer", c);
  int lc = local_client(s);
  int a = accept(s, NULL, NULL);
  struct sockaddr_in sa;
  socklen_t len = sizeof sa;
  getpeername(a, (struct sockaddr *)&sa, &len);
  printf("local_peer_loopback=%d\n", sa.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
  close(a);
  close(lc);
  close(c);
  close(s);
}
