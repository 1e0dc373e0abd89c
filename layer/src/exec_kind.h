/* What kind of program an executable is (exec_kind.c): the one definition of "the layer cannot serve
 * this, the supervisor must", used by the layer's exec hooks and by the supervisor (whose `check`
 * command the CLI asks). */
#ifndef PODLINK_EXEC_KIND_H
#define PODLINK_EXEC_KIND_H

#include <stdbool.h>
#include <stddef.h>

enum pl_exec_kind {
  PL_KIND_UNKNOWN,    /* not readable, not ELF, not a script: let exec decide */
  PL_KIND_DYNAMIC,    /* a 64-bit ELF with PT_INTERP and no Go build id: the layer serves it */
  PL_KIND_STATIC,     /* a 64-bit ELF without PT_INTERP: it never calls a preloaded libc */
  PL_KIND_GO,         /* a Go program without cgo (static): raw system calls */
  PL_KIND_GO_CGO,     /* a Go program linked with libc (cgo): still connects and opens with raw calls */
  PL_KIND_ELF32,      /* a 32-bit ELF: neither the 64-bit layer nor the supervisor's filter serves it */
};

/* Classifies the file at path; a "#!" script is classified by its interpreter (one level). Reads the
 * ELF headers with pread into this stack frame: no allocation, safe in a vfork child. */
enum pl_exec_kind pl_exec_kind(const char *path);

/* Static and Go programs bypass the layer. */
static inline bool pl_exec_kind_needs_supervisor(enum pl_exec_kind k) {
  return k == PL_KIND_STATIC || k == PL_KIND_GO || k == PL_KIND_GO_CGO;
}

/* Stable names (the supervisor's `check` output, the CLI's progress line). */
const char *pl_exec_kind_name(enum pl_exec_kind k);

#endif
