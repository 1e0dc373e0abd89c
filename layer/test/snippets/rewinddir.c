/* Snippet: rewinddir restarts a remote listing. */
#include "snippet.h"

SNIPPET_BODY {
  DIR *d = opendir(T("PL_T_DIR"));
  int first = 0, second = 0;
  while (d && readdir(d)) first++;
  if (d) rewinddir(d);
  while (d && readdir(d)) second++;
  printf("counts=%d,%d\n", first, second);
  if (d) closedir(d);
}
