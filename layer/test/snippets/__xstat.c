/* Snippet: __xstat (glibc < 2.33 ABI). */
#include "snippet.h"

SNIPPET_BODY {
  /* compat-only symbol: reachable through dlsym, as old binaries (node's) reach it */
  int (*fn)(int, const char *, struct stat *) = (int (*)(int, const char *, struct stat *))dlsym(RTLD_DEFAULT, "__xstat");
  if (!fn) {
    printf("remote=ERR:no symbol\n");
    return;
  }
  struct stat st;
  print_stat("remote", fn(1, T("PL_T_FILE"), &st), &st);
  print_stat("link", fn(1, T("PL_T_LINK"), &st), &st);
}
