/* What the layer's objects expect from the library they usually live in. The supervisor links the
 * layer's codec, routing, config, intproxy client and socket helpers as they are; here it gives them
 * their environment: the real-function table (the supervisor hooks nothing, so libc's own functions),
 * the thread-local flags, and the finalisers of layer-only descriptor kinds, which the supervisor
 * never creates. */
#include <stdlib.h>

#include "fdtable.h"
#include "file_stream.h"
#include "real.h"
#include "sup.h"

struct pl_real_table pl_real;
int pl_real_ready = 1;
int pl_state = PL_ACTIVE;
__thread int pl_guard __attribute__((tls_model("initial-exec")));
__thread int pl_quiet __attribute__((tls_model("initial-exec")));

void pl_real_resolve(void) {}

/* config.c asks where libpodlink.so is (for children's LD_PRELOAD): the supervisor is not it. */
const char *pl_elf_self_path(void) { return NULL; }

/* Descriptor kinds only the layer makes (write-back files, background connects). */
static void never(const char *what) {
  sup_line("internal error: %s reached in the supervisor", what);
  abort();
}
int pl_file_writeback(int fd, struct pl_fdobj *o) {
  (void)fd, (void)o;
  never("pl_file_writeback");
  return -1;
}
void pl_pending_cancel(struct pl_fdobj *o) {
  (void)o;
  never("pl_pending_cancel");
}
void pl_stream_unref(struct pl_stream *s) {
  (void)s;
  never("pl_stream_unref");
}
/* The layer's descriptor table gives a listener's port back at its last close; the supervisor keeps no
 * such table (listen.c watches its announced listeners instead). */
void pl_listen_release(struct pl_fdobj *o) {
  (void)o;
  never("pl_listen_release");
}

void sup_glue_init(void) {
  /* Only what the linked objects use (config.c: open, readlink, close; rpc.c: connect, close, fcntl;
   * exec_kind.c: open, close). */
  pl_real.open = open;
  pl_real.readlink = readlink;
  pl_real.close = close;
  pl_real.connect = connect;
  pl_real.fcntl = fcntl;
}
