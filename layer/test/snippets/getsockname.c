/* Snippet: a listener moved by listen_ports still shows the port the app asked for; the connections it
 * accepts and other sockets show the kernel's. */
#include "snippet.h"

SNIPPET_BODY {
  int s = app_listener();
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  print_rc("rc", getsockname(s, (struct sockaddr *)&ss, &len));
  print_sockaddr("name", (struct sockaddr *)&ss);
  int c = accept(s, NULL, NULL);
  len = sizeof ss;
  getsockname(c, (struct sockaddr *)&ss, &len);
  print_sockaddr("accepted_name", (struct sockaddr *)&ss);
  int lc = local_client(s);
  len = sizeof ss;
  getsockname(lc, (struct sockaddr *)&ss, &len);
  unsigned port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
  printf("client_port_is_its_own=%d\n", port != (unsigned)atoi(T("PL_T_LISTEN_PORT")) && port != (unsigned)atoi(T("PL_T_LISTEN_LOCAL")));
  close(lc);
  close(c);
  close(s);
}
