/* Snippet: seekdir on a remote listing. */
#include "snippet.h"

SNIPPET_BODY {
  DIR *d = opendir(T("PL_T_DIR"));
  if (!d) return;
  seekdir(d, 1000);
  printf("past_end=%s\n", readdir(d) ? "entry" : "end");
  seekdir(d, 0);
  printf("start=%s\n", readdir(d) ? "entry" : "end");
  closedir(d);
}
