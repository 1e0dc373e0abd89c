/* Children stay hooked. execv, execvp and posix_spawn use glibc's internal exec, so each entry point
 * is hooked; when the environment handed to the child lacks our LD_PRELOAD entry, a PODLINK_* variable
 * or UV_USE_IO_URING (env -i, a cleared Java ProcessBuilder environment), a fixed copy is built ON THE
 * STACK: a vfork child shares the parent's memory, so nothing here may allocate. The guard is released
 * before the real exec, for the same reason (the vfork parent resumes with the child's TLS state). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "config.h"
#include "exec_kind.h"
#include "real.h"

extern char **environ;

static size_t name_len(const char *entry) {
  const char *eq = strchr(entry, '=');
  return eq ? (size_t)(eq - entry) : strlen(entry);
}

static char *const *find(char *const envp[], const char *entry) {
  size_t n = name_len(entry);
  for (char *const *e = envp; e && *e; e++)
    if (strncmp(*e, entry, n) == 0 && (*e)[n] == '=') return e;
  return NULL;
}

/* Does this LD_PRELOAD value name our library (separators: ':' and ' ')? */
static bool preloads_us(const char *value) {
  size_t lib = strlen(pl_cfg.lib_path);
  for (const char *p = value; *p;) {
    size_t n = strcspn(p, ": ");
    if (n == lib && strncmp(p, pl_cfg.lib_path, lib) == 0) return true;
    p += n;
    while (*p == ':' || *p == ' ') p++;
  }
  return false;
}

/* How much the environment must change: number of entries to add, and bytes for a rewritten
 * LD_PRELOAD (0 if none). Returns false when envp is fine as it is. */
static bool env_needs(char *const envp[], size_t *add, size_t *ld_bytes) {
  *add = 0;
  *ld_bytes = 0;
  for (int i = 0; i < pl_cfg.n_snap; i++) {
    char *const *have = find(envp, pl_cfg.snap[i]);
    if (!have) {
      (*add)++;
    } else if (strncmp(pl_cfg.snap[i], "LD_PRELOAD=", 11) == 0 && pl_cfg.lib_path[0] && !preloads_us(*have + 11)) {
      *ld_bytes = 11 + strlen(pl_cfg.lib_path) + 1 + strlen(*have + 11) + 1;
    }
  }
  return *add || *ld_bytes;
}

/* Writes the fixed environment into out (room for every entry of envp + add + NULL). */
static void env_fix(char *const envp[], char **out, char *ld_buf) {
  size_t k = 0;
  for (char *const *e = envp; e && *e; e++) {
    if (ld_buf && strncmp(*e, "LD_PRELOAD=", 11) == 0) {
      strcpy(ld_buf, "LD_PRELOAD=");
      strcat(ld_buf, pl_cfg.lib_path);
      strcat(ld_buf, ":");
      strcat(ld_buf, *e + 11);
      out[k++] = ld_buf;
    } else {
      out[k++] = *e;
    }
  }
  for (int i = 0; i < pl_cfg.n_snap; i++)
    if (!find(envp, pl_cfg.snap[i])) out[k++] = (char *)pl_cfg.snap[i];
  out[k] = NULL;
}

static size_t count(char *const v[]) {
  size_t n = 0;
  while (v && v[n]) n++;
  return n;
}

/* Static and Go programs never run the layer: such a child is handed to the supervisor instead
 * (supervisor/README.md), which runs it as `podlink-supervisor run PATH -- ARGV…`. `file` is searched in
 * PATH (as execvp does) when `search` is set; resolved gets the program's path. Stack only. */
static bool handover(const char *file, bool search, char *resolved) {
  if (!pl_cfg.supervisor[0] || !file || !file[0]) return false;
  size_t fl = strlen(file);
  if (!search || strchr(file, '/')) {
    if (fl >= PATH_MAX) return false;
    memcpy(resolved, file, fl + 1);
  } else {
    const char *p = getenv("PATH");
    if (!p) p = "/bin:/usr/bin";
    for (bool found = false; !found;) {
      size_t n = strcspn(p, ":");
      if (n + 1 + fl < PATH_MAX) {
        memcpy(resolved, n ? p : ".", n ? n : 1);
        size_t k = n ? n : 1;
        resolved[k] = '/';
        memcpy(resolved + k + 1, file, fl + 1);
        found = pl_real.access(resolved, X_OK) == 0;
      }
      if (!found && !p[n]) return false;
      p += n + (p[n] ? 1 : 0);
    }
  }
  enum pl_exec_kind k = pl_exec_kind(resolved);
  if (!pl_exec_kind_needs_supervisor(k) || strcmp(resolved, pl_cfg.supervisor) == 0) return false;
  pl_debug("exec: %s is a %s program: the supervisor serves it", resolved, pl_exec_kind_name(k));
  return true;
}

/* The supervisor's argument vector: podlink-supervisor run PATH -- argv… */
static void supervisor_args(char **out, const char *path, char *const argv[]) {
  size_t k = 0;
  out[k++] = pl_cfg.supervisor;
  out[k++] = "run";
  out[k++] = (char *)path;
  out[k++] = "--";
  for (size_t i = 0; argv && argv[i]; i++) out[k++] = argv[i];
  if (k == 4) out[k++] = (char *)path; /* an empty argv still names the program */
  out[k] = NULL;
}

/* The supervisor itself could not be started (a broken install): the one line the layer prints outside
 * debug, since the child must not run unserved and its parent would otherwise see a bare ENOENT. */
static int handover_failed(const char *path, int err) {
  pl_log_impl("cannot serve %s (a static or Go program): the podlink supervisor %s cannot run (errno %d)", path,
              pl_cfg.supervisor, err);
  errno = err;
  return err;
}

static int exec_as(const char *file, bool search, char *const argv[], char *const env[]) {
  char resolved[PATH_MAX];
  if (handover(file, search, resolved)) {
    char *args[count(argv) + 6];
    supervisor_args(args, resolved, argv);
    pl_real.execve(pl_cfg.supervisor, args, env);
    handover_failed(resolved, errno);
    return -1;
  }
  return search ? pl_real.execvpe(file, argv, env) : pl_real.execve(file, argv, env);
}

static int spawn_as(pid_t *pid, const char *file, bool search, const posix_spawn_file_actions_t *fa,
                    const posix_spawnattr_t *attr, char *const argv[], char *const env[]) {
  char resolved[PATH_MAX];
  if (handover(file, search, resolved)) {
    char *args[count(argv) + 6];
    supervisor_args(args, resolved, argv);
    int r = pl_real.posix_spawn(pid, pl_cfg.supervisor, fa, attr, args, env);
    return r ? handover_failed(resolved, r) : 0;
  }
  return search ? pl_real.posix_spawnp(pid, file, fa, attr, argv, env) : pl_real.posix_spawn(pid, file, fa, attr, argv, env);
}

/* Runs CALL with `env` bound to envp or to a fixed copy on this stack frame. Releases the guard first. */
#define WITH_CHILD_ENV(envp, CALL)                                                     \
  do {                                                                                 \
    size_t add_, ld_;                                                                  \
    if (!env_needs(envp, &add_, &ld_)) {                                               \
      char *const *env = (envp);                                                       \
      pl_leave();                                                                      \
      return CALL;                                                                     \
    }                                                                                  \
    char *fixed_[count(envp) + add_ + 1];                                              \
    char ld_buf_[ld_ ? ld_ : 1];                                                       \
    env_fix(envp, fixed_, ld_ ? ld_buf_ : NULL);                                       \
    char *const *env = fixed_;                                                         \
    pl_debug("exec: adding %u layer variables to the child's environment", (unsigned)add_); \
    pl_leave();                                                                        \
    return CALL;                                                                       \
  } while (0)

PL_EXPORT int execve(const char *path, char *const argv[], char *const envp[]) {
  if (!pl_enter()) return pl_real.execve(path, argv, envp);
  WITH_CHILD_ENV(envp, exec_as(path, false, argv, env));
}

PL_EXPORT int execv(const char *path, char *const argv[]) {
  if (!pl_enter()) return pl_real.execv(path, argv);
  WITH_CHILD_ENV(environ, exec_as(path, false, argv, env));
}

PL_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[]) {
  if (!pl_enter()) return pl_real.execvpe(file, argv, envp);
  WITH_CHILD_ENV(envp, exec_as(file, true, argv, env));
}

PL_EXPORT int execvp(const char *file, char *const argv[]) {
  if (!pl_enter()) return pl_real.execvp(file, argv);
  WITH_CHILD_ENV(environ, exec_as(file, true, argv, env));
}

PL_EXPORT int posix_spawn(pid_t *restrict pid, const char *restrict path, const posix_spawn_file_actions_t *fa,
                          const posix_spawnattr_t *restrict attr, char *const argv[restrict],
                          char *const envp[restrict]) {
  if (!pl_enter()) return pl_real.posix_spawn(pid, path, fa, attr, argv, envp);
  WITH_CHILD_ENV(envp, spawn_as(pid, path, false, fa, attr, argv, env));
}

PL_EXPORT int posix_spawnp(pid_t *restrict pid, const char *restrict file, const posix_spawn_file_actions_t *fa,
                           const posix_spawnattr_t *restrict attr, char *const argv[restrict],
                           char *const envp[restrict]) {
  if (!pl_enter()) return pl_real.posix_spawnp(pid, file, fa, attr, argv, envp);
  WITH_CHILD_ENV(envp, spawn_as(pid, file, true, fa, attr, argv, env));
}

/* The execl family: collect the variadic argument list into an argv on the stack. */
#define COLLECT_ARGS(arg0, last_named, argv_name, after)          \
  size_t argc_ = 1;                                               \
  va_list ap_;                                                    \
  va_start(ap_, last_named);                                      \
  while (va_arg(ap_, char *)) argc_++;                            \
  va_end(ap_);                                                    \
  char *argv_name[argc_ + 1];                                     \
  argv_name[0] = (char *)(arg0);                                  \
  va_start(ap_, last_named);                                      \
  for (size_t i_ = 1; i_ <= argc_; i_++) argv_name[i_] = va_arg(ap_, char *); \
  after;                                                          \
  va_end(ap_)

PL_EXPORT int execl(const char *path, const char *arg, ...) {
  COLLECT_ARGS(arg, arg, argv, (void)0);
  return execve(path, argv, environ);
}

PL_EXPORT int execlp(const char *file, const char *arg, ...) {
  COLLECT_ARGS(arg, arg, argv, (void)0);
  return execvpe(file, argv, environ);
}

PL_EXPORT int execle(const char *path, const char *arg, ...) {
  char *const *envp;
  COLLECT_ARGS(arg, arg, argv, envp = va_arg(ap_, char *const *));
  return execve(path, argv, envp);
}
