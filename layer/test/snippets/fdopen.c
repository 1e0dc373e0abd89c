/* Snippet: fdopen: stdio over the streamed file (libc's own reads: the whole file first). */
#include "snippet.h"

SNIPPET_BODY {
  int fd = open_big("PL_T_BIG");
  if (fd < 0) return;
  FILE *f = fdopen(fd, "r");
  if (!f) {
    printf("tail=ERR:%s\n", strerror(errno));
    return;
  }
  unsigned char b[16];
  fseek(f, -16, SEEK_END);
  print_hex("tail", b, (long)fread(b, 1, sizeof b, f));
  fclose(f);
}
