/* Snippet: scandir of a remote directory, sorted by the caller's compar. */
#include "snippet.h"

SNIPPET_BODY {
  struct dirent **names;
  int n = scandir(T("PL_T_DIR"), &names, NULL, alphasort);
  char out[1024] = "";
  for (int i = 0; i < n; i++) {
    strcat(out, names[i]->d_name);
    strcat(out, ",");
    free(names[i]);
  }
  if (n >= 0) free(names);
  printf("remote=%d:%s\n", n, out);
  n = scandir(T("PL_T_MISSING"), &names, NULL, alphasort);
  printf("missing=%s\n", n < 0 ? strerror(errno) : "found");
}
