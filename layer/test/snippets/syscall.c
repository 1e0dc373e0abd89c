/* Snippet: syscall(): SYS_statx and SYS_close take the layer's paths, io_uring_setup is refused, the rest passes. */
#include "snippet.h"

SNIPPET_BODY {
  struct statx stx;
  long rc = syscall(SYS_statx, AT_FDCWD, T("PL_T_FILE"), 0, STATX_BASIC_STATS, &stx);
  if (rc) printf("statx=ERR:%s\n", strerror(errno));
  else printf("statx=size:%llu\n", (unsigned long long)stx.stx_size);
  char params[120] = {0};
  rc = syscall(SYS_io_uring_setup, 4, params);
  printf("io_uring_setup=%s\n", rc < 0 ? strerror(errno) : "ring");
  printf("gettid_ok=%d\n", syscall(SYS_gettid) == gettid());
  int w = open(T("PL_T_WFILE"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  print_rc("write", write(w, "via syscall close\n", 18));
  print_rc("sys_close", syscall(SYS_close, w));
}
