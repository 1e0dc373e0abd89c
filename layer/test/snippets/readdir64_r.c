/* Snippet: readdir64_r on a remote directory. */
#include "snippet.h"

SNIPPET_BODY {
  DIR *d = opendir(T("PL_T_DIR"));
  struct dirent64 ent, *res;
  char out[1024] = "";
  while (d && readdir64_r(d, &ent, &res) == 0 && res) {
    strcat(out, ent.d_name);
    strcat(out, ",");
  }
  printf("remote=%s\n", out);
  if (d) closedir(d);
}
