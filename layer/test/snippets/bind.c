/* Snippet: with listen_ports (PODLINK_LISTEN_PORTS=APP:LOCAL) bind to APP really takes LOCAL: the
 * intproxy delivers there, local clients reach it there; a UDP socket's bind is left alone. */
#include "snippet.h"

SNIPPET_BODY {
  int s = app_listener();
  struct sockaddr_in sa;
  socklen_t len = sizeof sa;
  syscall(SYS_getsockname, s, (struct sockaddr *)&sa, &len);
  printf("kernel_port=%u\n", ntohs(sa.sin_port));
  int c = accept(s, NULL, NULL);
  print_line("delivered", c);
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  sa.sin_port = htons((unsigned short)atoi(T("PL_T_LISTEN_PORT")));
  print_rc("udp_bind", bind(u, (struct sockaddr *)&sa, sizeof sa));
  len = sizeof sa;
  syscall(SYS_getsockname, u, (struct sockaddr *)&sa, &len);
  printf("udp_kernel_port=%u\n", ntohs(sa.sin_port));
  close(u);
  close(c);
  close(s);
}
