/* Snippet: fclose writes a remote (read_write) file back: the descriptor is closed inside libc. */
#include "snippet.h"

SNIPPET_BODY {
  FILE *f = fopen(T("PL_T_WFILE"), "w");
  if (!f) {
    printf("fopen=ERR:%s\n", strerror(errno));
    return;
  }
  fputs("via stdio\n", f);
  printf("fclose=%d\n", fclose(f));
}
