/* Snippet: pread: the last bytes of the streamed file, at an offset. */
#include "snippet.h"

SNIPPET_BODY {
  int fd = open_big("PL_T_BIG");
  if (fd < 0) return;
  unsigned char b[16];
  print_hex("tail", b, pread(fd, b, sizeof b, file_size(fd) - 16));
  close(fd);
}
