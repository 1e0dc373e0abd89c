/* Snippet: fopen: stdio over the remote file. */
#include "snippet.h"

SNIPPET_BODY {
  FILE *f = fopen(T("PL_T_FILE"), "re");
  char line[256] = "";
  if (!f) printf("remote=ERR:%s\n", strerror(errno));
  else {
    if (!fgets(line, sizeof line, f)) line[0] = 0;
    line[strcspn(line, "\n")] = 0;
    printf("remote=%s\n", line);
    printf("fclose=%d\n", fclose(f));
  }
  f = fopen(T("PL_T_MISSING"), "r");
  printf("missing=%s\n", f ? "opened" : strerror(errno));
}
