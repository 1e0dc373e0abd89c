/* Snippet: readlinkat of a remote link. */
#include "snippet.h"

SNIPPET_BODY {
  char buf[256];
  ssize_t n = readlinkat(AT_FDCWD, T("PL_T_LINK"), buf, sizeof buf);
  if (n < 0) printf("remote=ERR:%s\n", strerror(errno));
  else printf("remote=%.*s\n", (int)n, buf);
}
