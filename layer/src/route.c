/* Where a path goes. The one place that knows the built-in local list (documented in README.md). */
#include "route.h"

#include <string.h>

#include "config.h"

#define P(s) {s, sizeof s - 1}
/* Files under /etc that come from the target when remote DNS is on (resolvers that parse them). */
static const struct {
  const char *s;
  size_t n;
} dns_files[] = {P("/etc/resolv.conf"), P("/etc/hosts"), P("/etc/hostname")};
static const struct {
  const char *s;
  size_t n;
} local_suffixes[] = {P(".so"), P(".py"), P(".pyc"), P(".js"), P(".mjs"), P(".cjs"), P(".jar"), P(".class"), P(".pth")};
#undef P

/* path equals prefix, or continues with '/' right after it. */
static inline bool under(const char *path, const char *prefix, size_t n) {
  return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static bool has_local_suffix(const char *path) {
  const char *nm = path;
  while ((nm = strstr(nm, "/node_modules")) != NULL) {
    nm += sizeof "/node_modules" - 1;
    if (*nm == '\0' || *nm == '/') return true;
  }
  const char *last = strrchr(path, '/');
  last = last ? last + 1 : path;
  size_t n = strlen(last);
  for (size_t i = 0; i < sizeof local_suffixes / sizeof local_suffixes[0]; i++) {
    size_t k = local_suffixes[i].n;
    if (n > k && memcmp(last + n - k, local_suffixes[i].s, k) == 0) return true;
  }
  /* libfoo.so.1.2.3 */
  const char *so = strstr(last, ".so.");
  if (so && so > last) {
    const char *v = so + 4;
    if (*v < '0' || *v > '9') return false;
    for (; *v; v++)
      if ((*v < '0' || *v > '9') && *v != '.') return false;
    return true;
  }
  return false;
}

static bool builtin_local(const char *path, const struct pl_exe_prefix *exe, enum pl_bypass *why) {
  if (pl_builtin_dir(path)) {
    *why = BYPASS_BUILTIN_LOCAL;
    return true;
  }
  for (int i = 0; i < pl_cfg.n_local_prefixes; i++)
    if (under(path, pl_cfg.local_prefixes[i].path, pl_cfg.local_prefixes[i].len)) {
      *why = BYPASS_LOCAL_PREFIX;
      return true;
    }
  if (exe->len && under(path, exe->path, exe->len)) {
    *why = BYPASS_EXE_PREFIX;
    return true;
  }
  if (has_local_suffix(path)) {
    *why = BYPASS_LOCAL_SUFFIX;
    return true;
  }
  return false;
}

bool pl_builtin_local(const char *path, enum pl_bypass *why) {
  return builtin_local(path, &(struct pl_exe_prefix){pl_cfg.exe_prefix, pl_cfg.exe_prefix_len}, why);
}

/* "//", "/./", "/../", or a trailing "/." or "/..". strstr is vectorised: two scans of the path. */
static bool needs_normalising(const char *p) {
  if (strstr(p, "//")) return true;
  for (const char *d = strstr(p, "/."); d; d = strstr(d + 1, "/.")) {
    if (d[2] == '/' || d[2] == '\0') return true;
    if (d[2] == '.' && (d[3] == '/' || d[3] == '\0')) return true;
  }
  return false;
}

/* Lexical clean-up of an absolute path: "//" → "/", "/./" → "/", "a/../" → "". No symlinks resolved
 * (the target resolves those). Returns false when it does not fit. */
static bool normalise(const char *in, char *out, size_t cap) {
  size_t len = 0;
  out[len++] = '/';
  const char *p = in;
  while (*p) {
    while (*p == '/') p++;
    const char *seg = p;
    while (*p && *p != '/') p++;
    size_t n = (size_t)(p - seg);
    if (n == 0 || (n == 1 && seg[0] == '.')) continue;
    if (n == 2 && seg[0] == '.' && seg[1] == '.') {
      if (len > 1) {
        len--;
        while (len > 1 && out[len - 1] != '/') len--;
      }
      continue;
    }
    if (len + n + 2 > cap) return false;
    if (len > 1) out[len++] = '/';
    memcpy(out + len, seg, n);
    len += n;
  }
  if (len > 1 && out[len - 1] == '/') len--;
  out[len] = '\0';
  return true;
}

uint8_t pl_route_fast;

void pl_route_fast_init(bool active) {
  uint8_t fast = FAST_NONE;
  if (active && !pl_debug_on) fast = pl_cfg.fs_mode == FS_LOCAL ? FAST_ALL : pl_cfg.any_regex ? FAST_NONE : FAST_BUILTIN;
  __atomic_store_n(&pl_route_fast, fast, __ATOMIC_RELEASE);
}

/* The DNS files by name (pl_dns_file in route.h only looks at the first letters). */
bool pl_dns_file_exact(const char *path) {
  for (size_t i = 0; i < sizeof dns_files / sizeof dns_files[0]; i++)
    if (strcmp(path, dns_files[i].s) == 0) return true;
  return false;
}

void pl_route_path(int dirfd, const char *path, struct pl_path *out) {
  pl_route_path_for(&(struct pl_exe_prefix){pl_cfg.exe_prefix, pl_cfg.exe_prefix_len}, dirfd, path, out);
}

void pl_route_path_for(const struct pl_exe_prefix *exe, int dirfd, const char *path, struct pl_path *out) {
  (void)dirfd; /* an absolute path ignores dirfd; a relative one stays local whatever dirfd is */
  out->path = path;
  out->write_remote = false;
  out->route = ROUTE_LOCAL;
  if (!path || path[0] != '/') {
    out->why = BYPASS_RELATIVE_PATH;
    return;
  }
  if (pl_cfg.fs_mode == FS_LOCAL) {
    out->why = BYPASS_FS_MODE_LOCAL;
    return;
  }
  bool regexes = pl_cfg.any_regex;
  /* Fast path for the common case (no user regex): a built-in local directory decided on the path as
   * given, before any normalisation. A path like /usr/../x therefore stays local: the safe direction. */
  if (PL_LIKELY(!regexes) && pl_builtin_dir(path) && !pl_dns_file(path)) {
    out->why = BYPASS_BUILTIN_LOCAL;
    return;
  }
  if (needs_normalising(path)) {
    if (!normalise(path, out->buf, sizeof out->buf)) {
      out->why = BYPASS_RELATIVE_PATH; /* too long: let the real call fail with ENAMETOOLONG */
      return;
    }
    out->path = path = out->buf;
  }
  if (PL_UNLIKELY(regexes)) {
    if (pl_cfg.not_found.n && pl_regex_match(&pl_cfg.not_found, path)) {
      out->route = ROUTE_NOT_FOUND;
      return;
    }
    if (pl_cfg.local.n && pl_regex_match(&pl_cfg.local, path)) {
      out->why = BYPASS_LOCAL_REGEX;
      return;
    }
    if (pl_cfg.read_write.n && pl_regex_match(&pl_cfg.read_write, path)) {
      out->route = ROUTE_REMOTE;
      out->write_remote = true;
      return;
    }
    if (pl_cfg.read_only.n && pl_regex_match(&pl_cfg.read_only, path)) {
      out->route = ROUTE_REMOTE;
      return;
    }
  }
  if (pl_dns_file(path)) {
    out->route = ROUTE_REMOTE;
    out->write_remote = pl_cfg.fs_mode == FS_WRITE;
    return;
  }
  if (builtin_local(path, exe, &out->why)) return;
  if (pl_cfg.fs_mode == FS_LOCALWITHOVERRIDES) {
    out->why = BYPASS_LOCALWITHOVERRIDES;
    return;
  }
  out->route = ROUTE_REMOTE_IF_EXISTS;
  out->write_remote = pl_cfg.fs_mode == FS_WRITE;
}

int pl_route_hook(const char *hook, int dirfd, const char *path, struct pl_path *pp) {
  pl_route_path(dirfd, path, pp);
  if (pp->route == ROUTE_LOCAL) {
    pl_bypass(hook, pp->why, path);
    return 0;
  }
  if (pp->route == ROUTE_NOT_FOUND) {
    errno = ENOENT;
    return -1;
  }
  return 1;
}
