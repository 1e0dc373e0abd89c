/* Snippet: accept's own address argument names the remote client of a delivered connection, with its
 * length; a local client's stays the loopback address the kernel gave. */
#include "snippet.h"

SNIPPET_BODY {
  int s = app_listener();
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  int c = accept(s, (struct sockaddr *)&ss, &len);
  print_sockaddr("from", (struct sockaddr *)&ss);
  printf("len=%u\n", (unsigned)len);
  print_line("delivered", c);
  int lc = local_client(s);
  len = sizeof ss;
  int a = accept(s, (struct sockaddr *)&ss, &len);
  printf("local_from_loopback=%d\n", ((struct sockaddr_in *)&ss)->sin_addr.s_addr == htonl(INADDR_LOOPBACK));
  close(a);
  close(lc);
  close(c);
  close(s);
}
