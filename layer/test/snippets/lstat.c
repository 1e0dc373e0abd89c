/* Snippet: lstat of remote paths (does not follow links). */
#include "snippet.h"

SNIPPET_BODY {
  struct stat st;
  int rc = lstat(T("PL_T_FILE"), &st);
  print_stat("remote", rc, (struct stat *)&st);
  rc = lstat(T("PL_T_LINK"), &st);
  print_stat("link", rc, (struct stat *)&st);
  rc = lstat(T("PL_T_MISSING"), &st);
  print_stat("missing", rc, (struct stat *)&st);
  rc = lstat("/", &st);
  printf("root_is_dir=%d\n", rc == 0 && S_ISDIR(st.st_mode));
}
