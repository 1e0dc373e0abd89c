/* Runs the C codec over protocol vectors and mutated frames.
 *
 *   vectors DIR            for each valid/NAME.bin whose NAME.json has "$layer": true:
 *                            NAME<TAB>ok<TAB><canonical JSON><TAB><re-encoded hex>
 *                          for each invalid/NAME.bin:  NAME<TAB>err<TAB><error code>
 *   vectors --stream FILE  FILE holds records (u32 LE length + frame bytes); prints one line per record:
 *                            ok<TAB><JSON><TAB><hex>  or  err<TAB><code>
 *                          and checks that every frame that decodes re-encodes to the same bytes.
 * Exits non-zero on a re-encoding mismatch. Built plain and with ASan/UBSan. */
#include <arpa/inet.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

static void json_str(pl_bytes b) {
  putchar('"');
  for (uint32_t i = 0; i < b.len; i++) {
    unsigned char c = b.p[i];
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c == '\n') fputs("\\n", stdout);
    else if (c == '\r') fputs("\\r", stdout);
    else if (c == '\t') fputs("\\t", stdout);
    else if (c < 0x20) printf("\\u%04x", c);
    else putchar(c);
  }
  putchar('"');
}

static void json_hex(pl_bytes b) {
  putchar('"');
  for (uint32_t i = 0; i < b.len; i++) printf("%02x", b.p[i]);
  putchar('"');
}

static void json_addr(const pl_addr *a) {
  char text[INET6_ADDRSTRLEN];
  inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->ip, text, sizeof text);
  printf("{\"family\":%u,\"ip\":\"%s\",\"port\":%u}", a->family, text, a->port);
}

static void json_stat(const pl_stat *s) {
  printf("{\"dev\":\"%llu\",\"ino\":\"%llu\",\"mode\":%u,\"nlink\":\"%llu\",\"uid\":%u,\"gid\":%u,\"rdev\":\"%llu\","
         "\"size\":\"%llu\",\"blksize\":\"%llu\",\"blocks\":\"%llu\",\"atimeSec\":\"%lld\",\"atimeNsec\":%u,"
         "\"mtimeSec\":\"%lld\",\"mtimeNsec\":%u,\"ctimeSec\":\"%lld\",\"ctimeNsec\":%u}",
         (unsigned long long)s->dev, (unsigned long long)s->ino, s->mode, (unsigned long long)s->nlink, s->uid, s->gid,
         (unsigned long long)s->rdev, (unsigned long long)s->size, (unsigned long long)s->blksize,
         (unsigned long long)s->blocks, (long long)s->atime_sec, s->atime_nsec, (long long)s->mtime_sec, s->mtime_nsec,
         (long long)s->ctime_sec, s->ctime_nsec);
}

static const char *type_name(uint16_t t) {
  switch (t) {
    case PL_MSG_HELLO: return "Hello";
    case PL_MSG_HELLO_OK: return "HelloOk";
    case PL_MSG_ERROR: return "Error";
    case PL_MSG_OK: return "Ok";
    case PL_MSG_RESOLVE: return "Resolve";
    case PL_MSG_RESOLVED: return "Resolved";
    case PL_MSG_GET_ADDR_CONFIG: return "GetAddrConfig";
    case PL_MSG_ADDR_CONFIG: return "AddrConfig";
    case PL_MSG_STAT: return "Stat";
    case PL_MSG_STAT_RESULT: return "StatResult";
    case PL_MSG_ACCESS: return "Access";
    case PL_MSG_READ_LINK: return "ReadLink";
    case PL_MSG_LINK: return "Link";
    case PL_MSG_READ_DIR: return "ReadDir";
    case PL_MSG_DIR_ENTRIES: return "DirEntries";
    case PL_MSG_READ_FILE: return "ReadFile";
    case PL_MSG_FILE_DATA: return "FileData";
    case PL_MSG_WRITE_FILE: return "WriteFile";
    case PL_MSG_CONNECT: return "Connect";
    case PL_MSG_CONNECTED: return "Connected";
    case PL_MSG_RELEASE: return "Release";
    case PL_MSG_LISTEN: return "Listen";
    case PL_MSG_UNLISTEN: return "Unlisten";
    case PL_MSG_INCOMING_PEER: return "IncomingPeer";
    case PL_MSG_PEER: return "Peer";
    default: return "?";
  }
}

/* Canonical JSON, same shape as protocol/json.ts toJson. */
static void print_json(const pl_msg *m) {
  printf("{\"type\":\"%s\",\"id\":%u", type_name(m->type), m->id);
  const uint8_t *c;
  switch (m->type) {
    case PL_MSG_HELLO:
      printf(",\"version\":%u,\"build\":", m->u.hello.version);
      json_str(m->u.hello.build);
      printf(",\"role\":%u,\"pid\":%u,\"ppid\":%u,\"name\":", m->u.hello.role, m->u.hello.pid, m->u.hello.ppid);
      json_str(m->u.hello.name);
      printf(",\"token\":");
      json_str(m->u.hello.token);
      break;
    case PL_MSG_HELLO_OK:
      printf(",\"version\":%u,\"build\":", m->u.hello_ok.version);
      json_str(m->u.hello_ok.build);
      printf(",\"agentPid\":%u", m->u.hello_ok.agent_pid);
      break;
    case PL_MSG_ERROR:
      printf(",\"errno\":%u,\"message\":", m->u.error.err);
      json_str(m->u.error.message);
      break;
    case PL_MSG_OK: break;
    case PL_MSG_RESOLVE:
      fputs(",\"name\":", stdout);
      json_str(m->u.resolve.name);
      printf(",\"family\":%u", m->u.resolve.family);
      break;
    case PL_MSG_RESOLVED:
      fputs(",\"canonical\":", stdout);
      json_str(m->u.resolved.canonical);
      fputs(",\"addrs\":[", stdout);
      c = m->u.resolved.addrs.p;
      for (uint32_t i = 0; i < m->u.resolved.addrs.count; i++) {
        pl_addr a;
        pl_next_addr(&c, &a);
        if (i) putchar(',');
        json_addr(&a);
      }
      putchar(']');
      printf(",\"ttl\":%u", m->u.resolved.ttl);
      break;
    case PL_MSG_GET_ADDR_CONFIG: break;
    case PL_MSG_ADDR_CONFIG:
      printf(",\"ipv4\":%s,\"ipv6\":%s", m->u.addr_config.ipv4 ? "true" : "false", m->u.addr_config.ipv6 ? "true" : "false");
      break;
    case PL_MSG_STAT:
      fputs(",\"path\":", stdout);
      json_str(m->u.stat_req.path);
      printf(",\"follow\":%s", m->u.stat_req.follow ? "true" : "false");
      break;
    case PL_MSG_STAT_RESULT: fputs(",\"stat\":", stdout); json_stat(&m->u.stat_res.st); break;
    case PL_MSG_ACCESS:
      fputs(",\"path\":", stdout);
      json_str(m->u.access.path);
      printf(",\"mode\":%u", m->u.access.mode);
      break;
    case PL_MSG_READ_LINK:
    case PL_MSG_READ_DIR: fputs(",\"path\":", stdout); json_str(m->u.path.path); break;
    case PL_MSG_LINK: fputs(",\"target\":", stdout); json_str(m->u.link.target); break;
    case PL_MSG_DIR_ENTRIES:
      fputs(",\"entries\":[", stdout);
      c = m->u.dir_entries.entries.p;
      for (uint32_t i = 0; i < m->u.dir_entries.entries.count; i++) {
        pl_dirent d;
        pl_next_dirent(&c, &d);
        fputs(i ? ",{\"name\":" : "{\"name\":", stdout);
        json_str(d.name);
        printf(",\"ino\":\"%llu\",\"type\":%u}", (unsigned long long)d.ino, d.type);
      }
      putchar(']');
      break;
    case PL_MSG_READ_FILE:
      fputs(",\"path\":", stdout);
      json_str(m->u.read_file.path);
      printf(",\"offset\":\"%llu\",\"max\":%u", (unsigned long long)m->u.read_file.offset, m->u.read_file.max);
      break;
    case PL_MSG_FILE_DATA:
      fputs(",\"stat\":", stdout);
      json_stat(&m->u.file_data.st);
      fputs(",\"data\":", stdout);
      json_hex(m->u.file_data.data);
      printf(",\"eof\":%s", m->u.file_data.eof ? "true" : "false");
      break;
    case PL_MSG_WRITE_FILE:
      fputs(",\"path\":", stdout);
      json_str(m->u.write_file.path);
      printf(",\"offset\":\"%llu\",\"data\":", (unsigned long long)m->u.write_file.offset);
      json_hex(m->u.write_file.data);
      printf(",\"truncate\":%s,\"mode\":%u", m->u.write_file.truncate ? "true" : "false", m->u.write_file.mode);
      break;
    case PL_MSG_CONNECT:
      printf(",\"proto\":%u,\"remote\":", m->u.connect.proto);
      json_addr(&m->u.connect.remote);
      printf(",\"localFamily\":%u,\"source\":", m->u.connect.local_family);
      json_addr(&m->u.connect.source);
      break;
    case PL_MSG_CONNECTED:
      printf(",\"conn\":%u,\"local\":", m->u.connected.conn);
      json_addr(&m->u.connected.local);
      break;
    case PL_MSG_RELEASE: printf(",\"conn\":%u", m->u.release.conn); break;
    case PL_MSG_LISTEN:
      fputs(",\"local\":", stdout);
      json_addr(&m->u.listen.local);
      printf(",\"port\":%u", m->u.listen.port);
      break;
    case PL_MSG_UNLISTEN: fputs(",\"local\":", stdout); json_addr(&m->u.unlisten.local); break;
    case PL_MSG_INCOMING_PEER:
      fputs(",\"listener\":", stdout);
      json_addr(&m->u.incoming_peer.listener);
      fputs(",\"peer\":", stdout);
      json_addr(&m->u.incoming_peer.peer);
      break;
    case PL_MSG_PEER:
      fputs(",\"remote\":", stdout);
      json_addr(&m->u.peer.remote);
      fputs(",\"local\":", stdout);
      json_addr(&m->u.peer.local);
      break;
  }
  putchar('}');
}

/* Decodes, prints, re-encodes. Returns 0, or 1 when a decoded frame does not re-encode identically. */
static int run_frame(const uint8_t *buf, size_t len) {
  pl_msg m;
  int r = pl_decode(buf, len, &m);
  if (r != PL_OK) {
    printf("err\t%s\n", pl_proto_err_name(r));
    return 0;
  }
  fputs("ok\t", stdout);
  print_json(&m);
  size_t need = pl_encoded_size(&m);
  uint8_t *out = malloc(need ? need : 1);
  size_t n = out ? pl_encode(&m, out, need) : 0;
  putchar('\t');
  for (size_t i = 0; i < n; i++) printf("%02x", out[i]);
  putchar('\n');
  int bad = n != len || memcmp(out, buf, len) != 0;
  free(out);
  if (bad) fprintf(stderr, "re-encoding differs from the input frame\n");
  return bad;
}

static uint8_t *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 4096, n = 0;
  uint8_t *buf = malloc(cap);
  size_t got;
  while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap) buf = realloc(buf, cap *= 2);
  }
  fclose(f);
  *len = n;
  return buf;
}

static int filter_bin(const struct dirent *d) {
  size_t n = strlen(d->d_name);
  return n > 4 && strcmp(d->d_name + n - 4, ".bin") == 0;
}

static int run_dir(const char *root, const char *sub, int valid) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/%s", root, sub);
  struct dirent **names;
  int n = scandir(dir, &names, filter_bin, alphasort);
  if (n < 0) {
    perror(dir);
    return 1;
  }
  int bad = 0;
  for (int i = 0; i < n; i++) {
    char path[8192], base[512];
    snprintf(base, sizeof base, "%.*s", (int)strlen(names[i]->d_name) - 4, names[i]->d_name);
    if (valid) {
      size_t jl;
      snprintf(path, sizeof path, "%s/%s.json", dir, base);
      char *json = (char *)slurp(path, &jl);
      bool layer = json && memmem(json, jl, "\"$layer\": true", 14);
      free(json);
      if (!layer) {
        free(names[i]);
        continue;
      }
    }
    snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
    size_t len;
    uint8_t *buf = slurp(path, &len);
    printf("%s\t", base);
    bad |= buf ? run_frame(buf, len) : (printf("err\tunreadable\n"), 1);
    free(buf);
    free(names[i]);
  }
  free(names);
  return bad;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--stream") == 0) {
    size_t len;
    uint8_t *all = slurp(argv[2], &len);
    if (!all) return 2;
    int bad = 0;
    for (size_t off = 0; off + 4 <= len;) {
      uint32_t n = (uint32_t)all[off] | (uint32_t)all[off + 1] << 8 | (uint32_t)all[off + 2] << 16 |
                   (uint32_t)all[off + 3] << 24;
      off += 4;
      if (n > len - off) break;
      /* an exact-size heap copy, so ASan sees any read past the frame */
      uint8_t *frame = malloc(n ? n : 1);
      memcpy(frame, all + off, n);
      bad |= run_frame(frame, n);
      free(frame);
      off += n;
    }
    free(all);
    return bad;
  }
  if (argc != 2) {
    fprintf(stderr, "usage: vectors DIR | vectors --stream FILE\n");
    return 2;
  }
  int bad = run_dir(argv[1], "valid", 1);
  bad |= run_dir(argv[1], "invalid", 0);
  return bad;
}
