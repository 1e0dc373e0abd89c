/* Configuration from the environment, read once at init (config.c). Read-only afterwards, so hooks
 * read it without locks, and a vfork child can use it. */
#ifndef PODLINK_CONFIG_H
#define PODLINK_CONFIG_H

#include "common.h"

#include <limits.h>
#include <regex.h>
#include <sys/un.h>

enum pl_fs_mode { FS_READ, FS_WRITE, FS_LOCAL, FS_LOCALWITHOVERRIDES };

struct pl_regex_list {
  regex_t *re;
  int n;
};

struct pl_prefix {
  char *path; /* no trailing slash */
  size_t len;
};

#define PL_MAX_SNAPSHOT 48

struct pl_config {
  char sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
  enum pl_fs_mode fs_mode;
  struct pl_regex_list read_only, read_write, local, not_found;
  bool any_regex;
  struct pl_prefix *local_prefixes;
  int n_local_prefixes;
  char exe_prefix[PATH_MAX];
  size_t exe_prefix_len; /* 0: none */
  bool tcp, udp, dns, ignore_localhost;
  char hostname[65]; /* the target's, for gethostname and uname (hooks_host.c); "" = the real one */
  /* incoming: listening sockets are announced to the intproxy; listen_ports moves a bind's port */
  bool incoming;
#define PL_MAX_LISTEN_PORTS 64
  struct { uint16_t app, local; } listen_ports[PL_MAX_LISTEN_PORTS];
  int n_listen_ports;
  char lib_path[PATH_MAX]; /* absolute path of libpodlink.so, for LD_PRELOAD in children */
  char supervisor[PATH_MAX]; /* podlink-supervisor, for static and Go children (hooks_exec.c); "" = none */
  /* "NAME=value" entries children must inherit: PODLINK_*, LD_PRELOAD (ours first), UV_USE_IO_URING. */
  const char *snap[PL_MAX_SNAPSHOT];
  int n_snap;
};

extern struct pl_config pl_cfg PL_HIDDEN;
/* fork holds the regex lock: no thread may be inside regexec (which locks the regex) at fork. */
void pl_regex_atfork_prepare(void) PL_HIDDEN;
void pl_regex_atfork_parent(void) PL_HIDDEN;
void pl_regex_atfork_child(void) PL_HIDDEN;

/* Our pid, refreshed in the atfork child handler; compared with getpid() to detect a vfork child. */
extern pid_t pl_pid PL_HIDDEN;

/* Fills pl_cfg from the environment; returns true when PODLINK_SOCK is set (the layer is active). */
bool pl_config_load(void) PL_HIDDEN;
bool pl_regex_match(const struct pl_regex_list *l, const char *path) PL_HIDDEN;

#endif
