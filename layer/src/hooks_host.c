/* The host's name: gethostname and uname's nodename give the target's (PODLINK_HOSTNAME, read from the
 * target's /etc/hostname by the intproxy), as the process would see them in the pod; mirrord's
 * `feature.hostname`. Unset (the feature off, or no name could be read): the real ones. Nothing here
 * allocates or asks the intproxy: the name came with the environment. */
#include <errno.h>
#include <string.h>
#include <sys/utsname.h>

#include "common.h"
#include "config.h"
#include "real.h"

/* The target's name, or NULL (before set-up has ended, passive, or none). */
static const char *target_name(void) {
  if (__atomic_load_n(&pl_state, __ATOMIC_ACQUIRE) != PL_ACTIVE || !pl_cfg.hostname[0]) return NULL;
  return pl_cfg.hostname;
}

/* As glibc's: the name and its NUL copied as far as they fit, ENAMETOOLONG when they do not. */
PL_EXPORT int gethostname(char *name, size_t len) {
  pl_real_ensure();
  const char *host = target_name();
  if (!host) return pl_real.gethostname(name, len);
  size_t need = strlen(host) + 1;
  memcpy(name, host, len < need ? len : need);
  if (need > len) {
    errno = ENAMETOOLONG;
    return -1;
  }
  return 0;
}

PL_EXPORT int uname(struct utsname *u) {
  pl_real_ensure();
  int r = pl_real.uname(u);
  const char *host = target_name();
  if (r == 0 && host) {
    memset(u->nodename, 0, sizeof u->nodename);
    memcpy(u->nodename, host, strlen(host));
  }
  return r;
}
