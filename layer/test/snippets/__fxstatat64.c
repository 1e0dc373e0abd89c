/* Snippet: __fxstatat64 (glibc < 2.33 ABI). */
#include "snippet.h"

SNIPPET_BODY {
  int (*fn)(int, int, const char *, struct stat *, int) =
      (int (*)(int, int, const char *, struct stat *, int))dlsym(RTLD_DEFAULT, "__fxstatat64");
  if (!fn) {
    printf("remote=ERR:no symbol\n");
    return;
  }
  struct stat st;
  print_stat("remote", fn(1, AT_FDCWD, T("PL_T_FILE"), &st, 0), &st);
}
