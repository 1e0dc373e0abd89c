/* Snippet: eaccess of remote paths. */
#include "snippet.h"

SNIPPET_BODY {
  print_rc("remote", eaccess(T("PL_T_FILE"), R_OK));
  print_rc("missing", eaccess(T("PL_T_MISSING"), F_OK));
}
