/* Snippet: gethostbyname2_r in the target. */
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
  struct hostent he, *res = NULL;
  char buf[1024];
  int herr = 0;
  int rc = gethostbyname2_r(T("PL_T_HOST"), AF_INET, &he, buf, sizeof buf, &res, &herr);
  printf("rc=%d\n", rc);
  print_host("remote", res);
}
