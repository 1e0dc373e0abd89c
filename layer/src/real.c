/* The real-symbol table. Resolved by the constructor before anything else, or earlier by the first
 * hook that runs before it (pl_real_ensure): the lookup (elfsym.c) reads ELF tables only — no dlsym,
 * no allocation, no lock — so it is safe from any context, including inside another library's
 * initialisation. Two threads resolving at once store the same values. */
#include "real.h"

#include <stdlib.h>
#include <string.h>

#include "elfsym.h"

struct pl_real_table pl_real;
int pl_real_ready;

static void die(const char *what, const char *name) {
  /* Too early (and too broken) for the logger: straight to stderr. write(2) is not hooked. */
  static const char pre[] = "podlink: fatal: ";
  (void)!write(2, pre, sizeof pre - 1);
  (void)!write(2, what, strlen(what));
  (void)!write(2, name, strlen(name));
  (void)!write(2, "\n", 1);
  abort();
}

/* The default version first (dlsym); glibc 2.33+ keeps the __xstat family only as compat versions. */
static void *lookup(const char *name) {
  static const char *const compat[] = {"GLIBC_2.2.5", "GLIBC_2.17", "GLIBC_2.33"};
  void *p = pl_elf_next(name, NULL);
  for (size_t i = 0; !p && i < sizeof compat / sizeof compat[0]; i++) p = pl_elf_next(name, compat[i]);
  return p;
}

/* Comparing with our own readdir_r & co. is not a use of the deprecated API. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

void pl_real_resolve(void) {
  uintptr_t self_lo, self_hi;
  pl_elf_self_range(&self_lo, &self_hi);
#define PL_REAL_RESOLVE(req, ret, name, args)                                                   \
  do {                                                                                          \
    void *p = lookup(#name);                                                                    \
    if (!p && (req)) die("missing libc symbol ", #name);                                        \
    if (p && (p == (void *)&name || ((uintptr_t)p >= self_lo && (uintptr_t)p < self_hi)))      \
      die("real symbol resolves to the layer's own wrapper: ", #name);                          \
    __atomic_store_n((void **)&pl_real.name, p, __ATOMIC_RELAXED);                              \
  } while (0);
  PL_REAL_SYMS(PL_REAL_RESOLVE)
#undef PL_REAL_RESOLVE
  __atomic_store_n(&pl_real_ready, 1, __ATOMIC_RELEASE);
}
