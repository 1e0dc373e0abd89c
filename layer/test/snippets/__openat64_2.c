/* Snippet: __openat64_2 (fortified openat64). */
#include "snippet.h"

int __openat64_2(int, const char *, int);

SNIPPET_BODY {
  print_fd("remote", __openat64_2(AT_FDCWD, T("PL_T_FILE"), O_RDONLY));
}
