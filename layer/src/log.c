/* Debug output. Formats into a stack buffer with a tiny formatter (no stdio, no malloc) and writes it
 * with write(2), which the layer does not hook. Silent unless PODLINK_DEBUG=1. */
#include "common.h"

#include <stdarg.h>
#include <string.h>

bool pl_debug_on;

static const char *const bypass_names[BYPASS_COUNT] = {
    [BYPASS_RELATIVE_PATH] = "relative_path",
    [BYPASS_FS_MODE_LOCAL] = "fs_mode_local",
    [BYPASS_LOCAL_REGEX] = "local_regex",
    [BYPASS_BUILTIN_LOCAL] = "builtin_local",
    [BYPASS_LOCAL_PREFIX] = "local_prefix",
    [BYPASS_EXE_PREFIX] = "exe_prefix",
    [BYPASS_LOCAL_SUFFIX] = "local_suffix",
    [BYPASS_LOCALWITHOVERRIDES] = "localwithoverrides",
    [BYPASS_REMOTE_ENOENT] = "remote_enoent",
    [BYPASS_REMOTE_IS_DIR] = "remote_is_dir",
    [BYPASS_WRITE_STAYS_LOCAL] = "write_stays_local",
    [BYPASS_O_PATH] = "o_path",
    [BYPASS_NOT_INET] = "not_inet",
    [BYPASS_LOOPBACK] = "loopback",
    [BYPASS_UNSPECIFIED_ADDR] = "unspecified_addr",
    [BYPASS_SOCKET_TYPE] = "socket_type",
    [BYPASS_FEATURE_OFF] = "feature_off",
    [BYPASS_NUMERIC_HOST] = "numeric_host",
    [BYPASS_LOCALHOST] = "localhost",
};

const char *pl_bypass_name(enum pl_bypass b) {
  return (unsigned)b < BYPASS_COUNT ? bypass_names[b] : "?";
}

struct out {
  char *p;
  size_t left;
};

static void put(struct out *o, const char *s, size_t n) {
  if (n > o->left) n = o->left;
  memcpy(o->p, s, n);
  o->p += n;
  o->left -= n;
}

static void put_num(struct out *o, unsigned long v, bool neg, unsigned base) {
  char tmp[24];
  int i = sizeof tmp;
  do {
    tmp[--i] = "0123456789abcdef"[v % base];
    v /= base;
  } while (v && i > 1);
  if (neg) tmp[--i] = '-';
  put(o, tmp + i, sizeof tmp - i);
}

void pl_log_impl(const char *fmt, ...) {
  char buf[512];
  struct out o = {buf, sizeof buf - 1};
  int saved = errno;
  va_list ap;
  va_start(ap, fmt);
  put(&o, "podlink: ", 9);
  for (const char *f = fmt; *f; f++) {
    if (*f != '%') {
      put(&o, f, 1);
      continue;
    }
    bool lng = false;
    if (f[1] == 'l') {
      lng = true;
      f++;
    }
    switch (*++f) {
      case 's': {
        const char *s = va_arg(ap, const char *);
        if (!s) s = "(null)";
        put(&o, s, strlen(s));
        break;
      }
      case 'd': {
        long v = lng ? va_arg(ap, long) : va_arg(ap, int);
        put_num(&o, v < 0 ? -(unsigned long)v : (unsigned long)v, v < 0, 10);
        break;
      }
      case 'u':
        put_num(&o, lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned), false, 10);
        break;
      case 'x':
        put_num(&o, lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned), false, 16);
        break;
      case 'c': {
        char c = (char)va_arg(ap, int);
        put(&o, &c, 1);
        break;
      }
      case '%': put(&o, "%", 1); break;
      case '\0': f--; break;
      default: put(&o, "?", 1); break;
    }
  }
  va_end(ap);
  *o.p++ = '\n';
  (void)!write(2, buf, (size_t)(o.p - buf));
  errno = saved;
}
