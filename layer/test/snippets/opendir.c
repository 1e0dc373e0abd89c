/* Snippet: opendir + readdir of a remote directory (entries in the target's order). */
#include "snippet.h"

SNIPPET_BODY {
  list_dir("remote", opendir(T("PL_T_DIR")), 0);
  list_dir("missing", opendir(T("PL_T_MISSING")), 0);
}
