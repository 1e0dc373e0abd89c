/* Snippet: faccessat of remote paths. */
#include "snippet.h"

SNIPPET_BODY {
  print_rc("remote", faccessat(AT_FDCWD, T("PL_T_FILE"), R_OK, 0));
  print_rc("missing", faccessat(AT_FDCWD, T("PL_T_MISSING"), F_OK, 0));
}
