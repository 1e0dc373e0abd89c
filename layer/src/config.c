/* Reads the PODLINK_* environment once, from the constructor (guard.c). Everything here may allocate:
 * it is the layer's set-up, which no hook can reach (the start-up rule in common.h). */
#include "config.h"
#include "env_contract.h"

#include <pthread.h>
#include "elfsym.h"
#include "real.h"

#include <stdlib.h>
#include <string.h>

struct pl_config pl_cfg;
pid_t pl_pid;

/* The environment the process started with. Normally getenv sees it, but the layer may start lazily
 * from a hook called by another library's constructor after that code cleared or changed the
 * environment (clearenv before an exec): then the kernel's copy in /proc/self/environ, which those
 * calls never modify, is read instead (once, and only when PODLINK_SOCK is missing from environ). */
static char *initial_env;
static size_t initial_env_len;

static void load_initial_env(void) {
  int fd = pl_real.open("/proc/self/environ", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  size_t cap = 16384, len = 0;
  char *buf = malloc(cap + 1);
  for (ssize_t n; buf; len += (size_t)n) {
    if (len == cap) {
      char *grown = realloc(buf, (cap *= 2) + 1);
      if (!grown) break;
      buf = grown;
    }
    n = read(fd, buf + len, cap - len);
    if (n <= 0) break;
  }
  pl_real.close(fd);
  if (!buf) return;
  buf[len] = '\0';
  initial_env = buf;
  initial_env_len = len;
}

/* Calls fn on each "NAME=value" of the environment in use. */
static void each_env(void (*fn)(const char *entry)) {
  if (initial_env) {
    for (size_t off = 0; off < initial_env_len; off += strlen(initial_env + off) + 1)
      if (initial_env[off]) fn(initial_env + off);
    return;
  }
  extern char **environ;
  for (char **e = environ; e && *e; e++) fn(*e);
}

static const char *env_get(const char *name) {
  if (!initial_env) return getenv(name);
  size_t n = strlen(name);
  for (size_t off = 0; off < initial_env_len; off += strlen(initial_env + off) + 1)
    if (strncmp(initial_env + off, name, n) == 0 && initial_env[off + n] == '=') return initial_env + off + n + 1;
  return NULL;
}

static bool env_flag(const char *name, bool dflt) {
  const char *v = env_get(name);
  if (!v || !*v) return dflt;
  return strcmp(v, PL_ENV_FLAG_OFF) != 0 && strcasecmp(v, "false") != 0;
}

/* Splits a newline-separated list and calls fn on each non-empty, \r-trimmed line. */
static void each_line(const char *v, void (*fn)(const char *line, void *ctx), void *ctx) {
  if (!v) return;
  char *copy = strdup(v);
  if (!copy) return;
  char *save = NULL;
  for (char *line = strtok_r(copy, PL_ENV_LIST_SEP, &save); line; line = strtok_r(NULL, PL_ENV_LIST_SEP, &save)) {
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\r' || line[n - 1] == ' ')) line[--n] = '\0';
    if (n) fn(line, ctx);
  }
  free(copy);
}

static void add_regex(const char *line, void *ctx) {
  struct pl_regex_list *l = ctx;
  regex_t *grown = realloc(l->re, (size_t)(l->n + 1) * sizeof *grown);
  if (!grown) return;
  l->re = grown;
  if (regcomp(&l->re[l->n], line, REG_EXTENDED | REG_ICASE | REG_NOSUB) != 0) {
    pl_debug("config: ignoring invalid regex %s", line);
    return;
  }
  l->n++;
}

static void load_regexes(struct pl_regex_list *l, const char *env) { each_line(env_get(env), add_regex, l); }

/* "APP:LOCAL", both ports 1-65535; anything else is ignored (the CLI validated the config). */
static void add_listen_port(const char *line, void *ctx) {
  (void)ctx;
  unsigned app, local;
  char end;
  if (sscanf(line, "%u:%u%c", &app, &local, &end) != 2 || !app || !local || app > 65535 || local > 65535) return;
  if (pl_cfg.n_listen_ports == PL_MAX_LISTEN_PORTS) return;
  pl_cfg.listen_ports[pl_cfg.n_listen_ports].app = (uint16_t)app;
  pl_cfg.listen_ports[pl_cfg.n_listen_ports++].local = (uint16_t)local;
}

/* glibc's regexec locks the regex_t it runs: a fork while another thread is inside it would hand the
 * child a locked regex and hang its first match. Matches hold this lock shared; fork takes it
 * exclusively (pl_regex_atfork_*), so no thread is inside regexec when the process forks. Writer-
 * preferring, so a steady stream of matches cannot starve fork; never taken recursively (the guard
 * keeps hooks from re-entering while a match runs). */
static pthread_rwlock_t regex_lock = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;

void pl_regex_atfork_prepare(void) { pthread_rwlock_wrlock(&regex_lock); }
void pl_regex_atfork_parent(void) { pthread_rwlock_unlock(&regex_lock); }
void pl_regex_atfork_child(void) {
  pthread_rwlock_t fresh = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
  regex_lock = fresh;
}

bool pl_regex_match(const struct pl_regex_list *l, const char *path) {
  bool hit = false;
  pthread_rwlock_rdlock(&regex_lock);
  for (int i = 0; i < l->n && !hit; i++) hit = regexec(&l->re[i], path, 0, NULL, 0) == 0;
  pthread_rwlock_unlock(&regex_lock);
  return hit;
}

static void add_prefix(const char *line, void *ctx) {
  (void)ctx;
  if (line[0] != '/') return;
  size_t n = strlen(line);
  while (n > 1 && line[n - 1] == '/') n--;
  if (n == 1) {
    pl_debug("config: ignoring local prefix / (it would make every path local)");
    return;
  }
  struct pl_prefix *grown = realloc(pl_cfg.local_prefixes, (size_t)(pl_cfg.n_local_prefixes + 1) * sizeof *grown);
  if (!grown) return;
  pl_cfg.local_prefixes = grown;
  char *p = strndup(line, n);
  if (!p) return;
  grown[pl_cfg.n_local_prefixes++] = (struct pl_prefix){p, n};
}

/* The install prefix of the running executable: /usr/lib/jvm/X for /usr/lib/jvm/X/bin/java. */
static void load_exe_prefix(void) {
  char buf[PATH_MAX];
  ssize_t n = pl_real.readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return;
  buf[n] = '\0';
  for (int up = 0; up < 2; up++) {
    char *slash = strrchr(buf, '/');
    if (!slash) return;
    *slash = '\0';
  }
  size_t len = strlen(buf);
  if (len <= 1) return; /* "/" would make every path local */
  memcpy(pl_cfg.exe_prefix, buf, len + 1);
  pl_cfg.exe_prefix_len = len;
}

/* Copies: the app may later change or clear its environment, and children still need these. */
static void snapshot(const char *entry) {
  if (pl_cfg.n_snap >= PL_MAX_SNAPSHOT) return;
  char *copy = strdup(entry);
  if (copy) pl_cfg.snap[pl_cfg.n_snap++] = copy;
}

/* Children get LD_PRELOAD with our library first, whatever else it held. */
static void snapshot_ld_preload(void) {
  const char *cur = env_get("LD_PRELOAD");
  size_t lib = strlen(pl_cfg.lib_path);
  if (cur && strncmp(cur, pl_cfg.lib_path, lib) == 0 && (cur[lib] == '\0' || cur[lib] == ':' || cur[lib] == ' ')) {
    size_t n = strlen(cur);
    char *e = malloc(strlen("LD_PRELOAD=") + n + 1);
    if (!e) return;
    strcpy(e, "LD_PRELOAD=");
    strcat(e, cur);
    snapshot(e);
    free(e);
    return;
  }
  size_t rest = cur ? strlen(cur) : 0;
  char *e = malloc(strlen("LD_PRELOAD=") + lib + 1 + rest + 1);
  if (!e) return;
  strcpy(e, "LD_PRELOAD=");
  strcat(e, pl_cfg.lib_path);
  if (rest) {
    strcat(e, ":");
    strcat(e, cur);
  }
  snapshot(e);
  free(e);
}

static bool has_uv;
static void snapshot_if_ours(const char *e) {
  if (strncmp(e, PL_ENV_PREFIX, sizeof PL_ENV_PREFIX - 1) == 0 || strncmp(e, PL_ENV_UV_USE_IO_URING "=", sizeof PL_ENV_UV_USE_IO_URING) == 0) snapshot(e);
  if (strncmp(e, PL_ENV_UV_USE_IO_URING "=", sizeof PL_ENV_UV_USE_IO_URING) == 0) has_uv = true;
}

bool pl_config_load(void) {
  pl_pid = getpid();
  if (!getenv(PL_ENV_SOCK)) load_initial_env();
  pl_debug_on = env_flag(PL_ENV_DEBUG, false);
  const char *sock = env_get(PL_ENV_SOCK);
  if (!sock || !*sock) return false;
  if (strlen(sock) >= sizeof pl_cfg.sock) {
    pl_debug("config: PODLINK_SOCK is too long for a unix socket path; staying passive");
    return false;
  }
  strcpy(pl_cfg.sock, sock);

  const char *mode = env_get(PL_ENV_FS_MODE);
  pl_cfg.fs_mode = FS_READ;
  if (mode && strcasecmp(mode, PL_ENV_FS_MODE_WRITE) == 0) pl_cfg.fs_mode = FS_WRITE;
  else if (mode && strcasecmp(mode, PL_ENV_FS_MODE_LOCAL) == 0) pl_cfg.fs_mode = FS_LOCAL;
  else if (mode && strcasecmp(mode, PL_ENV_FS_MODE_LOCALWITHOVERRIDES) == 0) pl_cfg.fs_mode = FS_LOCALWITHOVERRIDES;

  load_regexes(&pl_cfg.read_only, PL_ENV_FS_READ_ONLY);
  load_regexes(&pl_cfg.read_write, PL_ENV_FS_READ_WRITE);
  load_regexes(&pl_cfg.local, PL_ENV_FS_LOCAL);
  load_regexes(&pl_cfg.not_found, PL_ENV_FS_NOT_FOUND);
  pl_cfg.any_regex = pl_cfg.read_only.n || pl_cfg.read_write.n || pl_cfg.local.n || pl_cfg.not_found.n;
  each_line(env_get(PL_ENV_FS_LOCAL_PREFIXES), add_prefix, NULL);
  load_exe_prefix();

  pl_cfg.tcp = env_flag(PL_ENV_OUTGOING_TCP, true);
  pl_cfg.udp = env_flag(PL_ENV_OUTGOING_UDP, true);
  pl_cfg.dns = env_flag(PL_ENV_DNS, true);
  pl_cfg.ignore_localhost = env_flag(PL_ENV_IGNORE_LOCALHOST, true);
  const char *host = env_get(PL_ENV_HOSTNAME);
  if (host && strlen(host) < sizeof pl_cfg.hostname) strcpy(pl_cfg.hostname, host);
  pl_cfg.incoming = env_flag(PL_ENV_INCOMING, false);
  each_line(env_get(PL_ENV_LISTEN_PORTS), add_listen_port, NULL);

  const char *sup = env_get(PL_ENV_SUPERVISOR);
  if (sup && sup[0] == '/' && strlen(sup) < sizeof pl_cfg.supervisor) strcpy(pl_cfg.supervisor, sup);

  const char *self = pl_elf_self_path();
  if (self && self[0] == '/' && strlen(self) < sizeof pl_cfg.lib_path) strcpy(pl_cfg.lib_path, self);

  /* libuv must not read files through io_uring (invisible to any hook). The syscall hook refuses
   * io_uring_setup anyway; the variable is also given to children (snapshot below). While libc has not
   * initialised itself yet (we run first: -z initfirst) environ is NULL and setenv would be undone. */
  extern char **environ;
  if (environ) setenv(PL_ENV_UV_USE_IO_URING, "0", 0);

  each_env(snapshot_if_ours);
  if (!has_uv) snapshot(PL_ENV_UV_USE_IO_URING "=0");
  if (pl_cfg.lib_path[0]) snapshot_ld_preload();

  pl_debug("config: sock=%s fs_mode=%d tcp=%d udp=%d dns=%d ignore_localhost=%d incoming=%d exe_prefix=%s", pl_cfg.sock,
           (int)pl_cfg.fs_mode, pl_cfg.tcp, pl_cfg.udp, pl_cfg.dns, pl_cfg.ignore_localhost, pl_cfg.incoming,
           pl_cfg.exe_prefix);
  return true;
}
