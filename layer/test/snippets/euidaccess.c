/* Snippet: euidaccess of remote paths. */
#include "snippet.h"

SNIPPET_BODY {
  print_rc("remote", euidaccess(T("PL_T_FILE"), R_OK));
  print_rc("missing", euidaccess(T("PL_T_MISSING"), F_OK));
}
