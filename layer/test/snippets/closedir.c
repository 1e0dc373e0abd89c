/* Snippet: closedir of our DIR and of a real one. */
#include "snippet.h"

SNIPPET_BODY {
  DIR *d = opendir(T("PL_T_DIR"));
  printf("closedir=%d\n", d ? closedir(d) : -1);
  d = opendir("/");
  printf("closedir_local=%d\n", d ? closedir(d) : -1);
}
