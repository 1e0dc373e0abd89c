/* Shared by the snippet harnesses. A snippet is one C file exercising one hooked function; it defines
 * SNIPPET_BODY and prints what it saw as "key=value" lines. Inputs come from PL_T_* variables set by
 * the test (test/unit/layer-snippets.test.ts). */
#ifndef PODLINK_SNIPPET_H
#define PODLINK_SNIPPET_H

#include <arpa/inet.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define SNIPPET_CAT_(a, b) a##b
#define SNIPPET_CAT(a, b) SNIPPET_CAT_(a, b)
#define SNIPPET_FN SNIPPET_CAT(snippet_, SNIPPET)
#define SNIPPET_BODY void SNIPPET_FN(void)
void SNIPPET_FN(void);

static inline const char *T(const char *name) {
  const char *v = getenv(name);
  if (!v) {
    fprintf(stderr, "snippet: %s is not set\n", name);
    exit(3);
  }
  return v;
}

/* Prints "tag=<content with \n as |>" from a descriptor, then closes it. */
static inline void print_fd(const char *tag, int fd) {
  if (fd < 0) {
    printf("%s=ERR:%s\n", tag, strerror(errno));
    return;
  }
  char buf[4096];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  if (n < 0) {
    printf("%s=ERR:%s\n", tag, strerror(errno));
    close(fd);
    return;
  }
  buf[n] = '\0';
  for (char *p = buf; *p; p++)
    if (*p == '\n') *p = '|';
  printf("%s=%s\n", tag, buf);
  close(fd);
}

static inline void print_stat(const char *tag, int rc, const struct stat *st) {
  if (rc != 0) printf("%s=ERR:%s\n", tag, strerror(errno));
  else printf("%s=size:%lld mode:%o mtime:%lld\n", tag, (long long)st->st_size, (unsigned)st->st_mode, (long long)st->st_mtime);
}

static inline void print_rc(const char *tag, long rc) {
  if (rc < 0) printf("%s=ERR:%s\n", tag, strerror(errno));
  else printf("%s=%ld\n", tag, rc);
}

/* "a.b.c.d:port" → sockaddr_in. */
static inline struct sockaddr_in T_ADDR(const char *name) {
  char buf[64];
  snprintf(buf, sizeof buf, "%s", T(name));
  char *colon = strrchr(buf, ':');
  struct sockaddr_in sa = {.sin_family = AF_INET};
  if (colon) {
    *colon = '\0';
    sa.sin_port = htons((unsigned short)atoi(colon + 1));
  }
  inet_pton(AF_INET, buf, &sa.sin_addr);
  return sa;
}

static inline void print_sockaddr(const char *tag, const struct sockaddr *sa) {
  char text[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  if (sa->sa_family == AF_INET) {
    inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, text, sizeof text);
    port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
  } else if (sa->sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, text, sizeof text);
    port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
  }
  printf("%s=%s:%u\n", tag, text, port);
}


/* Shared by the socket and fd snippets: a remote TCP connection (PL_T_TCP) and its peer address. */
static inline int tcp_connect(void) {
  struct sockaddr_in sa = T_ADDR("PL_T_TCP");
  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(s, (struct sockaddr *)&sa, sizeof sa) != 0) {
    printf("connect=ERR:%s\n", strerror(errno));
    return -1;
  }
  return s;
}
static inline void peer(const char *tag, int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0) printf("%s=ERR:%s\n", tag, strerror(errno));
  else print_sockaddr(tag, (struct sockaddr *)&ss);
}



/* Shared by the incoming snippets (bind, listen, accept, accept4, getsockname): a TCP listener on
 * 127.0.0.1 at the port PL_T_LISTEN_PORT names. With PODLINK_INCOMING=1 the layer announces it and the
 * scripted intproxy delivers one connection to it, greeting "hello from <the client it stands for>". */
static inline int app_listener(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(T("PL_T_LISTEN_PORT")))};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  print_rc("bind", bind(s, (struct sockaddr *)&sa, sizeof sa));
  print_rc("listen", listen(s, 8));
  return s;
}
/* A local client of the listener (loopback, the port the kernel gave it): the layer leaves it local. */
static inline int local_client(int listener) {
  struct sockaddr_in sa;
  socklen_t len = sizeof sa;
  syscall(SYS_getsockname, listener, (struct sockaddr *)&sa, &len); /* the kernel's port, not the app's */
  int c = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(c, (struct sockaddr *)&sa, sizeof sa) != 0) printf("local_connect=ERR:%s\n", strerror(errno));
  return c;
}
/* "tag=<first line read>" from an accepted connection. */
static inline void print_line(const char *tag, int fd) {
  char buf[128] = "";
  ssize_t n = read(fd, buf, sizeof buf - 1);
  buf[n > 0 ? n : 0] = 0;
  buf[strcspn(buf, "\n")] = 0;
  printf("%s=%s\n", tag, buf);
}

/* Shared by the non-blocking connect snippets (getsockopt, poll, ppoll, select, pselect): starts a
 * non-blocking connect to the remote named by env, printing "<tag>_first=<errno name>". */
static inline int nb_connect(const char *tag, const char *env) {
  struct sockaddr_in sa = T_ADDR(env);
  int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int rc = connect(s, (struct sockaddr *)&sa, sizeof sa);
  printf("%s_first=%s\n", tag, rc == 0 ? "0" : errno == EINPROGRESS ? "EINPROGRESS" : strerror(errno));
  return s;
}
static inline void print_so_error(const char *tag, int s) {
  int err = -1;
  socklen_t len = sizeof err;
  getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len);
  printf("%s=%s\n", tag, err ? strerror(err) : "0");
}
static inline void print_greeting(int s) {
  char buf[128] = "";
  int fl = fcntl(s, F_GETFL);
  fcntl(s, F_SETFL, fl & ~O_NONBLOCK);
  ssize_t n = read(s, buf, sizeof buf - 1);
  buf[n > 0 ? n : 0] = 0;
  buf[strcspn(buf, "\n")] = 0;
  printf("greeting=%s\n", buf);
}

/* Shared by the directory snippets: the names of a DIR's entries (without . and ..), by readdir or readdir64. */
static inline void list_dir(const char *tag, DIR *d, int use64) {
  char out[2048] = "";
  if (!d) {
    printf("%s=ERR:%s\n", tag, strerror(errno));
    return;
  }
  for (;;) {
    const char *name;
    if (use64) {
      struct dirent64 *e = readdir64(d);
      if (!e) break;
      name = e->d_name;
    } else {
      struct dirent *e = readdir(d);
      if (!e) break;
      name = e->d_name;
    }
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
    strcat(out, name);
    strcat(out, ",");
  }
  printf("%s=%s\n", tag, out);
}



/* Shared by the read snippets: the large remote file (PL_T_BIG), opened close-on-exec, so the open
 * returns after its first chunk and the rest arrives behind the reads. */
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
static inline int open_big(const char *env) {
  int fd = open(T(env), O_RDONLY | O_CLOEXEC);
  if (fd < 0) printf("open=ERR:%s\n", strerror(errno));
  return fd;
}
static inline long file_size(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 ? (long)st.st_size : -1;
}
/* "tag=<hex of n bytes>", or the error when rc < 0. */
static inline void print_hex(const char *tag, const void *p, long rc) {
  if (rc < 0) {
    printf("%s=ERR:%s\n", tag, strerror(errno));
    return;
  }
  printf("%s=", tag);
  for (long i = 0; i < rc; i++) printf("%02x", ((const unsigned char *)p)[i]);
  printf("\n");
}

#endif
