/* Snippet: scandir64 (node's readdirSync) of a remote directory. */
#include "snippet.h"

SNIPPET_BODY {
  struct dirent64 **names;
  int n = scandir64(T("PL_T_DIR"), &names, NULL, alphasort64);
  char out[1024] = "";
  for (int i = 0; i < n; i++) {
    strcat(out, names[i]->d_name);
    strcat(out, ",");
    free(names[i]);
  }
  if (n >= 0) free(names);
  printf("remote=%d:%s\n", n, out);
}
