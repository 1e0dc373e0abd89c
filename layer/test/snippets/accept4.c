/* Snippet: accept4 as accept, and its flags still reach the new descriptor. */
#include "snippet.h"

SNIPPET_BODY {
  int s = app_listener();
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  int c = accept4(s, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
  print_sockaddr("from", (struct sockaddr *)&ss);
  printf("cloexec=%d\n", (fcntl(c, F_GETFD) & FD_CLOEXEC) != 0);
  printf("nonblock=%d\n", (fcntl(c, F_GETFL) & O_NONBLOCK) != 0);
  peer("peer", c);
  print_greeting(c);
  close(c);
  close(s);
}
