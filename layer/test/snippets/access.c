/* Snippet: access of remote paths. */
#include "snippet.h"

SNIPPET_BODY {
  print_rc("remote", access(T("PL_T_FILE"), R_OK));
  print_rc("missing", access(T("PL_T_MISSING"), F_OK));
}
