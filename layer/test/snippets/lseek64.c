/* Snippet: lseek64: SEEK_HOLE finds no hole in the streamed file (the part still arriving is none). */
#include "snippet.h"

SNIPPET_BODY {
  int fd = open_big("PL_T_BIG");
  if (fd < 0) return;
  long n = file_size(fd);
  printf("data=%ld\n", (long)lseek64(fd, 0, SEEK_DATA));
  printf("hole_at_end=%d\n", (long)lseek64(fd, 0, SEEK_HOLE) == n);
  lseek64(fd, -16, SEEK_END);
  unsigned char b[16];
  print_hex("tail", b, read(fd, b, sizeof b));
  close(fd);
}
