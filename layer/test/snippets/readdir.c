/* Snippet: readdir on our DIR and on a real one. */
#include "snippet.h"

SNIPPET_BODY {
  DIR *d = opendir(T("PL_T_DIR"));
  list_dir("remote", d, 0);
  printf("closedir=%d\n", d ? closedir(d) : -1);
  d = opendir("/proc/self");
  printf("local_real=%d\n", d && readdir(d) != NULL);
  if (d) closedir(d);
}
