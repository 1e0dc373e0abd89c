/* Finding the real libc functions without dlsym.
 *
 * THE START-UP RULE (layer/README.md, "Start-up that cannot deadlock"): a hook may run before the
 * layer's set-up has finished — from an IFUNC resolver, a preinit function, another library's
 * constructor, or from inside an allocator's own initialisation (jemalloc's malloc_init calls
 * readlink("/etc/malloc.conf") while holding its init lock). On that path nothing may allocate, take
 * a lock that is not the layer's, or call dlsym (dlsym takes the loader's lock and allocates its
 * error string on a failed lookup). So the real symbols are found here by reading the loaded objects'
 * ELF symbol tables directly: the link_map chain of _r_debug, each object's .dynamic, its GNU (or
 * SysV) hash table and its version tables. Pure memory reads: no allocation, no lock, no syscall, safe
 * at any moment of the process's life, from any thread, any number of times.
 *
 * Semantics follow dlsym(RTLD_NEXT, name): the first definition in an object loaded after the layer,
 * with the default (non-hidden) version; dlvsym(RTLD_NEXT, name, version) for compat-only symbols. */
#include "elfsym.h"

#include <elf.h>
#include <link.h>
#include <string.h>

/* Linker-provided: the layer's own ELF header, i.e. where the layer is loaded. */
extern const ElfW(Ehdr) __ehdr_start __attribute__((visibility("hidden")));

/* .dynamic addresses are relocated in place by the loader, except in read-only dynamic sections (the
 * vDSO): an address below the load base is still an offset. */
static uintptr_t dyn_ptr(const struct link_map *l, ElfW(Addr) v) {
  return v < l->l_addr ? l->l_addr + v : v;
}

struct obj {
  const struct link_map *l;
  const ElfW(Sym) *symtab;
  const char *strtab;
  const uint32_t *gnu_hash, *sysv_hash;
  const ElfW(Half) *versym;
  const ElfW(Verdef) *verdef;
};

static bool load_obj(const struct link_map *l, struct obj *o) {
  memset(o, 0, sizeof *o);
  o->l = l;
  if (!l->l_ld) return false;
  for (const ElfW(Dyn) *d = l->l_ld; d->d_tag != DT_NULL; d++) {
    switch (d->d_tag) {
      case DT_SYMTAB: o->symtab = (const ElfW(Sym) *)dyn_ptr(l, d->d_un.d_ptr); break;
      case DT_STRTAB: o->strtab = (const char *)dyn_ptr(l, d->d_un.d_ptr); break;
      case DT_GNU_HASH: o->gnu_hash = (const uint32_t *)dyn_ptr(l, d->d_un.d_ptr); break;
      case DT_HASH: o->sysv_hash = (const uint32_t *)dyn_ptr(l, d->d_un.d_ptr); break;
      case DT_VERSYM: o->versym = (const ElfW(Half) *)dyn_ptr(l, d->d_un.d_ptr); break;
      case DT_VERDEF: o->verdef = (const ElfW(Verdef) *)dyn_ptr(l, d->d_un.d_ptr); break;
      default: break;
    }
  }
  return o->symtab && o->strtab && (o->gnu_hash || o->sysv_hash);
}

/* The name of version index ndx in this object's version definitions, or NULL. */
static const char *version_name(const struct obj *o, unsigned ndx) {
  if (!o->verdef) return NULL;
  const ElfW(Verdef) *vd = o->verdef;
  for (;;) {
    if ((vd->vd_ndx & 0x7fff) == ndx) {
      const ElfW(Verdaux) *aux = (const ElfW(Verdaux) *)((const char *)vd + vd->vd_aux);
      return o->strtab + aux->vda_name;
    }
    if (!vd->vd_next) return NULL;
    vd = (const ElfW(Verdef) *)((const char *)vd + vd->vd_next);
  }
}

/* version NULL: the default version only (what dlsym finds). Otherwise exactly that version. */
static bool acceptable(const struct obj *o, uint32_t idx, const char *name, const char *version) {
  const ElfW(Sym) *s = &o->symtab[idx];
  if (s->st_shndx == SHN_UNDEF || (s->st_value == 0 && ELF64_ST_TYPE(s->st_info) != STT_TLS)) return false;
  unsigned bind = ELF64_ST_BIND(s->st_info);
  if (bind != STB_GLOBAL && bind != STB_WEAK && bind != STB_GNU_UNIQUE) return false;
  if (strcmp(o->strtab + s->st_name, name) != 0) return false;
  if (!o->versym) return version == NULL;
  ElfW(Half) v = o->versym[idx];
  if (!version) return (v & 0x8000) == 0;
  const char *vn = version_name(o, v & 0x7fff);
  return vn && strcmp(vn, version) == 0;
}

static void *address_of(const struct obj *o, uint32_t idx) {
  const ElfW(Sym) *s = &o->symtab[idx];
  uintptr_t a = o->l->l_addr + s->st_value;
  if (ELF64_ST_TYPE(s->st_info) == STT_GNU_IFUNC) return ((void *(*)(void))a)();
  return (void *)a;
}

static uint32_t gnu_hash_of(const char *s) {
  uint32_t h = 5381;
  for (; *s; s++) h = h * 33 + (uint8_t)*s;
  return h;
}

static uint32_t sysv_hash_of(const char *s) {
  uint32_t h = 0;
  for (; *s; s++) {
    h = (h << 4) + (uint8_t)*s;
    uint32_t g = h & 0xf0000000u;
    if (g) h ^= g >> 24;
    h &= ~g;
  }
  return h;
}

static void *find_in(const struct obj *o, const char *name, const char *version) {
  if (o->gnu_hash) {
    const uint32_t *t = o->gnu_hash;
    uint32_t nbuckets = t[0], symoffset = t[1], bloom_size = t[2];
    if (!nbuckets) return NULL;
    const uint32_t *buckets = (const uint32_t *)((const ElfW(Addr) *)(t + 4) + bloom_size);
    const uint32_t *chain = buckets + nbuckets;
    uint32_t h = gnu_hash_of(name);
    uint32_t idx = buckets[h % nbuckets];
    if (idx < symoffset) return NULL;
    for (;; idx++) {
      uint32_t ch = chain[idx - symoffset];
      if ((ch | 1) == (h | 1) && acceptable(o, idx, name, version)) return address_of(o, idx);
      if (ch & 1) return NULL;
    }
  }
  const uint32_t *t = o->sysv_hash;
  uint32_t nbucket = t[0];
  if (!nbucket) return NULL;
  const uint32_t *bucket = t + 2, *chain = bucket + nbucket;
  for (uint32_t idx = bucket[sysv_hash_of(name) % nbucket]; idx; idx = chain[idx])
    if (acceptable(o, idx, name, version)) return address_of(o, idx);
  return NULL;
}

static const struct link_map *self_map(void) {
  for (const struct link_map *l = _r_debug.r_map; l; l = l->l_next)
    if (l->l_addr == (ElfW(Addr))&__ehdr_start) return l;
  return NULL;
}

void *pl_elf_next(const char *name, const char *version) {
  const struct link_map *self = self_map();
  /* Objects after the layer first (RTLD_NEXT), then — when the layer was not preloaded and sits after
   * libc — every other object. */
  for (int pass = 0; pass < 2; pass++) {
    for (const struct link_map *l = pass == 0 && self ? self->l_next : _r_debug.r_map; l; l = l->l_next) {
      struct obj o;
      if (l == self || !load_obj(l, &o)) continue;
      void *p = find_in(&o, name, version);
      if (p) return p;
    }
  }
  return NULL;
}

void pl_elf_self_range(uintptr_t *lo, uintptr_t *hi) {
  const ElfW(Ehdr) *eh = &__ehdr_start;
  const ElfW(Phdr) *ph = (const ElfW(Phdr) *)((const char *)eh + eh->e_phoff);
  uintptr_t base = (uintptr_t)eh, min = UINTPTR_MAX, max = 0;
  for (int i = 0; i < eh->e_phnum; i++) {
    if (ph[i].p_type != PT_LOAD) continue;
    if (ph[i].p_vaddr < min) min = ph[i].p_vaddr;
    if (ph[i].p_vaddr + ph[i].p_memsz > max) max = ph[i].p_vaddr + ph[i].p_memsz;
  }
  if (min == UINTPTR_MAX) min = max = 0;
  *lo = base; /* the ELF header is the start of the first loaded segment */
  *hi = base + (max - min);
}

const char *pl_elf_self_path(void) {
  const struct link_map *self = self_map();
  return self ? self->l_name : NULL;
}
