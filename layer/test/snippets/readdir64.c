/* Snippet: readdir64 on a remote directory. */
#include "snippet.h"

SNIPPET_BODY {
  DIR *d = opendir(T("PL_T_DIR"));
  list_dir("remote", d, 1);
  if (d) closedir(d);
}
