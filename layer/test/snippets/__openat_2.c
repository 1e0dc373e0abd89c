/* Snippet: __openat_2 (fortified openat). */
#include "snippet.h"

int __openat_2(int, const char *, int);

SNIPPET_BODY {
  print_fd("remote", __openat_2(AT_FDCWD, T("PL_T_FILE"), O_RDONLY));
}
