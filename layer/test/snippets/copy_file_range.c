/* Snippet: copy_file_range: the last bytes of the streamed file into another memfd (the same
 * filesystem: across filesystems the kernel says EXDEV and programs fall back to read/write). */
#include "snippet.h"

SNIPPET_BODY {
  int fd = open_big("PL_T_BIG");
  if (fd < 0) return;
  int out = memfd_create("copy", MFD_CLOEXEC);
  off64_t off = file_size(fd) - 16, at = 0;
  unsigned char b[16];
  ssize_t n = copy_file_range(fd, &off, out, &at, 16, 0);
  print_hex("tail", b, n < 0 ? n : pread(out, b, sizeof b, 0));
  close(out);
  close(fd);
}
