/* The layer's dlsym-free lookup (src/elfsym.c) against the loader's own: every symbol of the real
 * table must resolve to what dlsym(RTLD_NEXT)/dlvsym finds. Prints "NAME ok" or "NAME MISMATCH ...",
 * then "checked N". Built with the layer's elfsym.c (the executable plays the layer's part). */
#include <dlfcn.h>
#include <stdio.h>

#include "../../src/elfsym.h"
#include "../../src/real.h"

static int checked, bad;

static void check(const char *name, int required) {
  void *want = dlsym(RTLD_NEXT, name);
  const char *version = NULL;
  static const char *const compat[] = {"GLIBC_2.2.5", "GLIBC_2.17", "GLIBC_2.33"};
  for (unsigned i = 0; !want && i < 3; i++) want = dlvsym(RTLD_NEXT, name, version = compat[i]);
  void *got = pl_elf_next(name, want ? version : NULL);
  checked++;
  if (got == want && (got || !required)) {
    printf("%s ok\n", name);
  } else {
    bad++;
    printf("%s MISMATCH dlsym=%p elf=%p\n", name, want, got);
  }
}

int main(void) {
#define CHECK(req, ret, name, args) check(#name, req);
  PL_REAL_SYMS(CHECK)
#undef CHECK
  uintptr_t lo, hi;
  pl_elf_self_range(&lo, &hi);
  if (!((uintptr_t)&main >= lo && (uintptr_t)&main < hi)) {
    bad++;
    printf("self range MISMATCH\n");
  }
  printf("checked %d, %d bad\n", checked, bad);
  return bad != 0;
}
