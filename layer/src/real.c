/* The real-symbol table: resolved once, before anything else runs (pl_init calls this first). */
#include "real.h"

#include <dlfcn.h>
#include <link.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct pl_real_table pl_real;

static void die(const char *what, const char *name) {
  /* Too early (and too broken) for the logger: write straight to stderr with the raw syscall. */
  static const char pre[] = "podlink: fatal: ";
  (void)!write(2, pre, sizeof pre - 1);
  (void)!write(2, what, strlen(what));
  (void)!write(2, name, strlen(name));
  (void)!write(2, "\n", 1);
  abort();
}

/* Symbols that glibc 2.33+ keeps only as compat versions: dlsym(RTLD_NEXT) may not see them, so the
 * versioned lookup is tried next. */
static void *lookup(const char *name) {
  void *p = dlsym(RTLD_NEXT, name);
  if (!p) p = dlvsym(RTLD_NEXT, name, "GLIBC_2.2.5");
  if (!p) p = dlvsym(RTLD_NEXT, name, "GLIBC_2.33");
  return p;
}

/* Comparing with our own readdir_r & co. is not a use of the deprecated API. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

/* Our own loaded segments, found once: a resolved symbol inside them is one of our wrappers. (One
 * dladdr per symbol would cost millions of instructions at every process start.) */
static uintptr_t self_lo, self_hi;

static int find_self(struct dl_phdr_info *info, size_t size, void *base) {
  (void)size;
  if (info->dlpi_addr != (uintptr_t)base) return 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD) continue;
    uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
    if (!self_lo || lo < self_lo) self_lo = lo;
    if (hi > self_hi) self_hi = hi;
  }
  return 1;
}

static bool is_self(void *p) { return (uintptr_t)p >= self_lo && (uintptr_t)p < self_hi; }

void pl_real_resolve(void) {
  Dl_info self;
  if (!dladdr((void *)&pl_real_resolve, &self)) die("cannot locate the layer itself", "");
  dl_iterate_phdr(find_self, self.dli_fbase);

#define PL_REAL_RESOLVE(req, ret, name, args)                                                   \
  do {                                                                                          \
    void *p = lookup(#name);                                                                    \
    if (!p && (req)) die("missing libc symbol ", #name);                                        \
    if (p && (p == (void *)&name || is_self(p)))                                                \
      die("real symbol resolves to the layer's own wrapper: ", #name);                          \
    memcpy(&pl_real.name, &p, sizeof p);                                                        \
  } while (0);
  PL_REAL_SYMS(PL_REAL_RESOLVE)
#undef PL_REAL_RESOLVE
}
