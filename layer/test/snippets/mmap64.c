/* Snippet: mmap64: a mapping of the streamed file sees all of it. */
#include "snippet.h"

SNIPPET_BODY {
  int fd = open_big("PL_T_BIG");
  if (fd < 0) return;
  long n = file_size(fd);
  unsigned char *m = mmap64(NULL, (size_t)n, PROT_READ, MAP_PRIVATE, fd, 0);
  if (m == MAP_FAILED) printf("tail=ERR:%s\n", strerror(errno));
  else print_hex("tail", m + n - 16, 16);
  close(fd);
}
