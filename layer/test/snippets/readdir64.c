/* Snippet: readdir64 on a remote directory. */
#include "snippet.h"

static void list(const char *tag, DIR *d, int use64) {
  char out[2048] = "";
  if (!d) {
    printf("%s=ERR:%s\n", tag, strerror(errno));
    return;
  }
  for (;;) {
    const char *name;
    if (use64) {
      struct dirent64 *e = readdir64(d);
      if (!e) break;
      name = e->d_name;
    } else {
      struct dirent *e = readdir(d);
      if (!e) break;
      name = e->d_name;
    }
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
    strcat(out, name);
    strcat(out, ",");
  }
  printf("%s=%s\n", tag, out);
}

SNIPPET_BODY {
  DIR *d = opendir(T("PL_T_DIR"));
  list("remote", d, 1);
  if (d) closedir(d);
}
