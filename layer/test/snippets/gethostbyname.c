/* Snippet: gethostbyname in the target. */
#include "snippet.h"

static void print_host(const char *tag, struct hostent *h) {
  if (!h) {
    printf("%s=ERR:h_errno %d\n", tag, h_errno);
    return;
  }
  char text[64];
  inet_ntop(h->h_addrtype, h->h_addr_list[0], text, sizeof text);
  printf("%s=%s %s\n", tag, h->h_name, text);
}

SNIPPET_BODY {
  print_host("remote", gethostbyname(T("PL_T_HOST")));
  print_host("missing", gethostbyname("no-such-name.invalid"));
}
