/* Snippet: __pread64_chk: the last bytes of the streamed file, at an offset. */
#include "snippet.h"

ssize_t __pread64_chk(int, void *, size_t, off64_t, size_t);

SNIPPET_BODY {
  int fd = open_big("PL_T_BIG");
  if (fd < 0) return;
  unsigned char b[16];
  print_hex("tail", b, __pread64_chk(fd, b, sizeof b, file_size(fd) - 16, sizeof b));
  close(fd);
}
