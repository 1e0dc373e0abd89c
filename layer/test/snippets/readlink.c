/* Snippet: readlink: the target of a remote link, truncated like the real one, EINVAL on a file. */
#include "snippet.h"

SNIPPET_BODY {
  char buf[256];
  ssize_t n = readlink(T("PL_T_LINK"), buf, sizeof buf);
  if (n < 0) printf("remote=ERR:%s\n", strerror(errno));
  else printf("remote=%.*s\n", (int)n, buf);
  n = readlink(T("PL_T_LINK"), buf, 3);
  printf("truncated=%.*s n=%zd\n", (int)(n > 0 ? n : 0), buf, n);
  n = readlink(T("PL_T_FILE"), buf, sizeof buf);
  printf("not_link=%s\n", n < 0 ? strerror(errno) : "link");
}
