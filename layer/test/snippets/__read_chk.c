/* Snippet: __read_chk (fortified read): the last bytes of the streamed file. */
#include "snippet.h"

ssize_t __read_chk(int, void *, size_t, size_t);

SNIPPET_BODY {
  int fd = open_big("PL_T_BIG");
  if (fd < 0) return;
  unsigned char b[16];
  lseek(fd, -16, SEEK_END);
  print_hex("tail", b, __read_chk(fd, b, sizeof b, sizeof b));
  close(fd);
}
