/* Static or Go? Read from the ELF program headers: no PT_INTERP means no dynamic loader, so no
 * preloaded library ever runs; a PT_NOTE with owner "Go" and type 4 is the Go linker's build id (in
 * cgo builds too, where the program still makes its own raw system calls for files and sockets).
 * Everything is read into this stack frame with pread: a vfork child may run this. */
#include "exec_kind.h"

#include <elf.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "real.h"

#define HEAD 4096
#define GO_NOTE_TYPE 4

static bool pread_full(int fd, void *buf, size_t n, off_t off) {
  return pread(fd, buf, n, off) == (ssize_t)n;
}

/* Does the note segment [off, off+len) hold the Go build id note? */
static bool has_go_note(int fd, off_t off, size_t len) {
  unsigned char buf[1024];
  if (len > sizeof buf) len = sizeof buf; /* the Go note comes first in its segment */
  if (!pread_full(fd, buf, len, off)) return false;
  for (size_t p = 0; p + sizeof(Elf64_Nhdr) <= len;) {
    Elf64_Nhdr n;
    memcpy(&n, buf + p, sizeof n);
    size_t name_at = p + sizeof n;
    /* the Go linker writes the name padded: "Go\0\0" (namesz 4) */
    if ((n.n_namesz == 3 || n.n_namesz == 4) && n.n_type == GO_NOTE_TYPE && name_at + 3 <= len &&
        memcmp(buf + name_at, "Go", 3) == 0)
      return true;
    p = name_at + ((n.n_namesz + 3u) & ~3u) + ((n.n_descsz + 3u) & ~3u);
  }
  return false;
}

static enum pl_exec_kind elf_kind(int fd, const unsigned char *head, size_t got) {
  if (got < EI_NIDENT || memcmp(head, ELFMAG, SELFMAG) != 0) return PL_KIND_UNKNOWN;
  if (head[EI_CLASS] == ELFCLASS32) return PL_KIND_ELF32;
  if (head[EI_CLASS] != ELFCLASS64 || got < sizeof(Elf64_Ehdr)) return PL_KIND_UNKNOWN;
  Elf64_Ehdr eh;
  memcpy(&eh, head, sizeof eh);
  if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > 128) return PL_KIND_UNKNOWN;
  bool interp = false, go = false;
  for (unsigned i = 0; i < eh.e_phnum; i++) {
    Elf64_Phdr ph;
    off_t at = (off_t)(eh.e_phoff + (uint64_t)i * sizeof ph);
    if (at + (off_t)sizeof ph <= (off_t)got) memcpy(&ph, head + at, sizeof ph);
    else if (!pread_full(fd, &ph, sizeof ph, at)) return PL_KIND_UNKNOWN;
    if (ph.p_type == PT_INTERP) interp = true;
    else if (ph.p_type == PT_NOTE && !go) go = has_go_note(fd, (off_t)ph.p_offset, ph.p_filesz);
  }
  if (go) return interp ? PL_KIND_GO_CGO : PL_KIND_GO;
  return interp ? PL_KIND_DYNAMIC : PL_KIND_STATIC;
}

/* "#!/path/to/interp [arg]": the interpreter's path, NUL-terminated in out. */
static bool script_interp(const unsigned char *head, size_t got, char *out, size_t cap) {
  if (got < 3 || head[0] != '#' || head[1] != '!') return false;
  size_t i = 2;
  while (i < got && (head[i] == ' ' || head[i] == '\t')) i++;
  size_t n = 0;
  while (i < got && head[i] != ' ' && head[i] != '\t' && head[i] != '\n' && n + 1 < cap) out[n++] = (char)head[i++];
  out[n] = '\0';
  return n > 0 && out[0] == '/';
}

static enum pl_exec_kind kind_at(const char *path, int depth) {
  int fd = pl_real.open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return PL_KIND_UNKNOWN;
  unsigned char head[HEAD];
  ssize_t got = pread(fd, head, sizeof head, 0);
  enum pl_exec_kind k = PL_KIND_UNKNOWN;
  char interp[256];
  if (got > 0 && depth == 0 && script_interp(head, (size_t)got, interp, sizeof interp)) {
    pl_real.close(fd);
    return kind_at(interp, 1);
  }
  if (got > 0) k = elf_kind(fd, head, (size_t)got);
  pl_real.close(fd);
  return k;
}

enum pl_exec_kind pl_exec_kind(const char *path) { return path ? kind_at(path, 0) : PL_KIND_UNKNOWN; }

const char *pl_exec_kind_name(enum pl_exec_kind k) {
  switch (k) {
    case PL_KIND_DYNAMIC: return "dynamic";
    case PL_KIND_STATIC: return "static";
    case PL_KIND_GO: return "go";
    case PL_KIND_GO_CGO: return "go-cgo";
    case PL_KIND_ELF32: return "elf32";
    default: return "unknown";
  }
}
