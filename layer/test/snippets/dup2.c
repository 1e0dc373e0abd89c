/* Snippet: dup2 copies the layer's record of a remote TCP connection to the new descriptor. */
#include "snippet.h"

SNIPPET_BODY {
  int s = tcp_connect();
  if (s < 0) return;
  int d = dup2(s, 100);
  peer("peer_dup", d);
  close(s);
  peer("peer_after_close_orig", d);
  char buf[128] = "";
  ssize_t n = read(d, buf, sizeof buf - 1);
  buf[n > 0 ? n : 0] = 0;
  buf[strcspn(buf, "\n")] = 0;
  printf("greeting=%s\n", buf);
  close(d);
  /* dup2 onto the layer's own connection: the layer moves it out of the way first and keeps working.
   * It is the highest-numbered socket (parked near the descriptor limit). */
  int layer_fd = -1;
  for (int fd = 65535; fd > 2 && layer_fd < 0; fd--) {
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode)) layer_fd = fd;
  }
  printf("found_layer_fd=%d\n", layer_fd > 100);
  int null = open("/dev/null", O_RDONLY);
  printf("dup2_onto_layer=%d\n", dup2(null, layer_fd) == layer_fd);
  close(null);
  print_fd("remote_after", open(T("PL_T_FILE"), O_RDONLY));
  close(layer_fd);
}
