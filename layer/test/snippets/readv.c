/* Snippet: readv: the last bytes of the streamed file, in two pieces. */
#include "snippet.h"

SNIPPET_BODY {
  int fd = open_big("PL_T_BIG");
  if (fd < 0) return;
  unsigned char b[16];
  struct iovec iov[2] = {{b, 8}, {b + 8, 8}};
  lseek(fd, -16, SEEK_END);
  print_hex("tail", b, readv(fd, iov, 2));
  close(fd);
}
