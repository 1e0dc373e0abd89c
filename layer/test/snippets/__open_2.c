/* Snippet: __open_2 (the _FORTIFY_SOURCE entry point of open). */
#include "snippet.h"

int __open_2(const char *, int);

SNIPPET_BODY {
  print_fd("remote", __open_2(T("PL_T_FILE"), O_RDONLY));
}
