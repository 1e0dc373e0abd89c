/* Symbol lookup without dlsym (elfsym.c): no allocation, no lock, usable before the layer's set-up. */
#ifndef PODLINK_ELFSYM_H
#define PODLINK_ELFSYM_H

#include "common.h"

/* dlsym(RTLD_NEXT, name) when version is NULL, dlvsym(RTLD_NEXT, name, version) otherwise. */
void *pl_elf_next(const char *name, const char *version) PL_HIDDEN;
/* The address range of the layer's own loaded segments. */
void pl_elf_self_range(uintptr_t *lo, uintptr_t *hi) PL_HIDDEN;
/* The layer's path as the loader knows it (absolute when LD_PRELOAD named it so), or NULL. */
const char *pl_elf_self_path(void) PL_HIDDEN;

#endif
