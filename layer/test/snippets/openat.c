/* Snippet: openat: absolute paths are routed whatever dirfd is; relative ones stay local. */
#include "snippet.h"

SNIPPET_BODY {
  print_fd("remote", openat(AT_FDCWD, T("PL_T_FILE"), O_RDONLY));
  int dfd = open("/", O_RDONLY | O_DIRECTORY);
  print_fd("dirfd_absolute", openat(dfd, T("PL_T_FILE"), O_RDONLY));
  close(dfd);
  print_fd("relative_local", openat(AT_FDCWD, "podlink-relative-missing", O_RDONLY));
}
