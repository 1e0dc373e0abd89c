/* Snippet: statx of a remote path fills the basic stats. */
#include "snippet.h"

SNIPPET_BODY {
  struct statx stx;
  int rc = statx(AT_FDCWD, T("PL_T_FILE"), 0, STATX_BASIC_STATS, &stx);
  if (rc) printf("remote=ERR:%s\n", strerror(errno));
  else printf("remote=size:%llu mode:%o mtime:%lld basic:%d\n", (unsigned long long)stx.stx_size, stx.stx_mode,
              (long long)stx.stx_mtime.tv_sec, (stx.stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS);
  rc = statx(AT_FDCWD, T("PL_T_MISSING"), 0, STATX_BASIC_STATS, &stx);
  printf("missing=%s\n", rc ? strerror(errno) : "found");
}
