/* Snippet: preadv64: the last bytes of the streamed file, in two pieces, at an offset. */
#include "snippet.h"

SNIPPET_BODY {
  int fd = open_big("PL_T_BIG");
  if (fd < 0) return;
  unsigned char b[16];
  struct iovec iov[2] = {{b, 8}, {b + 8, 8}};
  print_hex("tail", b, preadv64(fd, iov, 2, file_size(fd) - 16));
  close(fd);
}
