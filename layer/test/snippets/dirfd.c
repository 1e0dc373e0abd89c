/* Snippet: dirfd: a remote listing has no descriptor (ENOTSUP); a real DIR has one. */
#include "snippet.h"

SNIPPET_BODY {
  DIR *d = opendir(T("PL_T_DIR"));
  int fd = d ? dirfd(d) : -2;
  printf("remote=%s\n", fd == -1 ? strerror(errno) : "fd");
  if (d) closedir(d);
  d = opendir("/proc");
  printf("local=%d\n", d && dirfd(d) >= 0);
  if (d) closedir(d);
}
