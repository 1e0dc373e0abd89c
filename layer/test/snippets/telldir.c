/* Snippet: telldir/seekdir on a remote listing. */
#include "snippet.h"

SNIPPET_BODY {
  DIR *d = opendir(T("PL_T_DIR"));
  if (!d) return;
  readdir(d);
  long pos = telldir(d);
  struct dirent *e = readdir(d);
  char name[256];
  snprintf(name, sizeof name, "%s", e ? e->d_name : "-");
  seekdir(d, pos);
  e = readdir(d);
  printf("same_after_seekdir=%d\n", e && strcmp(e->d_name, name) == 0);
  closedir(d);
}
