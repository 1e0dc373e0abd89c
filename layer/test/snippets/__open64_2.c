/* Snippet: __open64_2 (fortified open64). */
#include "snippet.h"

int __open64_2(const char *, int);

SNIPPET_BODY {
  print_fd("remote", __open64_2(T("PL_T_FILE"), O_RDONLY));
}
