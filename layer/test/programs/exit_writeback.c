/* Writes two remote (read_write) files and exits without closing either: the layer writes them back
 * from its destructor. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void) {
  const char *path = getenv("PL_T_WFILE");
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || write(fd, "unclosed fd\n", 12) != 12) return 1;
  char stdio_path[4096];
  snprintf(stdio_path, sizeof stdio_path, "%s.stdio", path);
  FILE *f = fopen(stdio_path, "w");
  if (!f) return 2;
  fputs("unclosed stream\n", f); /* still in the stdio buffer at exit */
  exit(0);
}
