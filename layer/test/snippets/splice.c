/* Snippet: splice: the last bytes of the streamed file into a pipe. */
#include "snippet.h"

SNIPPET_BODY {
  int fd = open_big("PL_T_BIG");
  if (fd < 0) return;
  int p[2];
  if (pipe(p) != 0) return;
  off64_t off = file_size(fd) - 16;
  unsigned char b[16];
  ssize_t n = splice(fd, &off, p[1], NULL, 16, 0);
  print_hex("tail", b, n < 0 ? n : read(p[0], b, sizeof b));
  close(fd);
}
