/* Snippet: read: the first bytes come while the rest of the file is held back by the scripted intproxy
 * (until this snippet opens the gate), so the open must have returned before the file had arrived;
 * then reads further on wait for their bytes. */
#include "snippet.h"

SNIPPET_BODY {
  int fd = open_big("PL_T_BIG_GATED");
  if (fd < 0) return;
  printf("size=%ld\n", file_size(fd));
  unsigned char b[16];
  print_hex("head", b, read(fd, b, sizeof b));
  close(open(T("PL_T_GATE"), O_WRONLY | O_CREAT | O_CLOEXEC, 0644)); /* the rest may come now */
  lseek(fd, 5L * 1024 * 1024 + 3, SEEK_SET);
  print_hex("mid", b, read(fd, b, sizeof b));
  lseek(fd, -16, SEEK_END);
  print_hex("tail", b, read(fd, b, sizeof b));
  printf("eof=%zd\n", read(fd, b, sizeof b));
  close(fd);
}
