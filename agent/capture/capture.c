/* podlink-capture: the mirror's packet capture, run by the agent inside the target's network namespace.
 *
 * Capture, never proxy: an AF_PACKET socket sees a copy of what reaches the pod's subscribed TCP ports;
 * the pod's own traffic path is untouched, and when this program (or the agent behind it) falls behind,
 * the kernel drops packets from this socket's queue only — the pod never waits for it.
 *
 *   stdin   lines "ports P1 P2 …" (the whole set; empty = none). Each is answered by a PORTS event once
 *           the kernel filter for that set is in place. End of stdin: exit.
 *   stdout  events, each `u32 length (of what follows) | u8 event | u32 flow | payload`:
 *             READY 0     once, when the socket is open
 *             OPEN  1     a client's SYN: u8 family (4/6), u16 src port, u16 dst port, 16 B src, 16 B dst
 *             DATA  2     the client's next bytes, in order
 *             END   3     the client's FIN, after all its bytes
 *             RESET 4     the client's RST
 *             DROP  5     this flow's copy is given up: a gap in the sequence (a packet the capture
 *                         missed), or stdout was full (the agent is behind)
 *             PORTS 6     the filter of the last "ports" line is in place
 *
 * argv: `--ignore-source IPv4`: connections from that address are not copied (the agent's own
 * pass-through to the original app, agent/incoming/passthrough.ts: it would be a second copy).
 *
 * Each flow is reassembled strictly in order from its SYN; connections that were open before a port was
 * subscribed are not copied. Needs CAP_NET_RAW. Built by agent/capture/Makefile (npm run build). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

enum { EV_READY, EV_OPEN, EV_DATA, EV_END, EV_RESET, EV_DROP, EV_PORTS };

#define MAX_PORTS 120 /* jump offsets of the filter stay below 256 */
#define MAX_FLOWS 4096
#define OUT_LIMIT (8u << 20) /* stdout backlog before copies are dropped */
#define SNAP (256 * 1024)

struct flow {
  bool used;
  uint8_t family;
  uint8_t src[16], dst[16];
  uint16_t sport, dport;
  uint32_t next; /* next expected sequence number */
  uint32_t id;
};

static struct flow flows[MAX_FLOWS];
static uint32_t next_id = 1;
static uint8_t *out;
static size_t out_len, out_cap;

static void die(const char *what) {
  fprintf(stderr, "podlink-capture: %s: %s\n", what, strerror(errno));
  exit(1);
}

/* Appends an event; `force` ignores OUT_LIMIT (small control events). False when it did not fit. */
static bool emit(uint8_t ev, uint32_t flow, const void *p, size_t n, bool force) {
  if (!force && out_len + n + 9 > OUT_LIMIT) return false;
  if (out_len + n + 9 > out_cap) {
    size_t cap = out_cap ? out_cap : 65536;
    while (cap < out_len + n + 9) cap *= 2;
    uint8_t *grown = realloc(out, cap);
    if (!grown) return false;
    out = grown;
    out_cap = cap;
  }
  uint32_t len = (uint32_t)(n + 5);
  memcpy(out + out_len, &len, 4); /* little-endian hosts only (x86-64, arm64) */
  out[out_len + 4] = ev;
  memcpy(out + out_len + 5, &flow, 4);
  if (n) memcpy(out + out_len + 9, p, n);
  out_len += n + 9;
  return true;
}

static void flush_out(void) {
  while (out_len) {
    ssize_t w = write(1, out, out_len);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return;
      exit(0); /* the agent is gone */
    }
    memmove(out, out + w, out_len - (size_t)w);
    out_len -= (size_t)w;
  }
}

/* The kernel filter: TCP (IPv4 unfragmented, or IPv6 with TCP as next header) to one of `ports`. */
static void set_filter(int fd, const uint16_t *ports, int n) {
  struct sock_filter f[16 + 2 * MAX_PORTS];
  int k = 0;
  /* Layout (n = ports): 0-2 drop outgoing; 3-4 IPv4?; 5-10 TCP, unfragmented, load dst port;
   * 11.. n port tests; 11+n miss; 12+n IPv6?; 13+n-15+n TCP, load dst port; 16+n.. n port tests;
   * 16+2n miss; 17+2n hit. Jump offsets count from the next instruction. */
  /* 0 */ f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE);
  /* 1 */ f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 0, 1);
  /* 2 */ f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
  /* 3 */ f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PROTOCOL);
  /* 4 */ f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, (uint8_t)(7 + n));
  /* v4 */
  /* 5 */ f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9);
  /* 6 */ f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, 0, (uint8_t)(4 + n));
  /* 7 */ f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6);
  /* 8 */ f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, (uint8_t)(2 + n), 0);
  /* 9 */ f[k++] = (struct sock_filter)BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0);
  /* 10 */ f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_IND, 2);
  for (int i = 0; i < n; i++) f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ports[i], (uint8_t)(5 + 2 * n - i), 0);
  /* v4 miss */ f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
  /* v6 */
  f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 0, (uint8_t)(3 + n));
  f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 6);
  f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, 0, (uint8_t)(1 + n));
  f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 40 + 2);
  for (int i = 0; i < n; i++) f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ports[i], (uint8_t)(n - i), 0);
  /* miss */ f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, 0);
  /* hit */ f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SNAP);
  struct sock_fprog prog = {.len = (unsigned short)k, .filter = f};
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0) die("SO_ATTACH_FILTER");
  /* Packets queued under the previous filter may not match the new set: harmless, they are parsed
   * again below and only ports of the current set open flows. */
}

static uint16_t ports[MAX_PORTS];
static int n_ports;

static bool port_wanted(uint16_t p) {
  for (int i = 0; i < n_ports; i++)
    if (ports[i] == p) return true;
  return false;
}

static struct flow *find(uint8_t fam, const uint8_t *src, const uint8_t *dst, uint16_t sport, uint16_t dport) {
  size_t alen = fam == 4 ? 4 : 16;
  for (int i = 0; i < MAX_FLOWS; i++) {
    struct flow *f = &flows[i];
    if (f->used && f->family == fam && f->sport == sport && f->dport == dport && !memcmp(f->src, src, alen) && !memcmp(f->dst, dst, alen))
      return f;
  }
  return NULL;
}

static void end_flow(struct flow *f, uint8_t ev) {
  emit(ev, f->id, NULL, 0, true);
  f->used = false;
}

/* --ignore-source: the IPv4 source whose connections are never copied. */
static bool has_ignored;
static uint8_t ignored_src[4];

static void on_tcp(uint8_t fam, const uint8_t *src, const uint8_t *dst, const uint8_t *tcp, size_t len) {
  if (len < 20) return;
  uint16_t sport = (uint16_t)(tcp[0] << 8 | tcp[1]), dport = (uint16_t)(tcp[2] << 8 | tcp[3]);
  uint32_t seq = (uint32_t)tcp[4] << 24 | (uint32_t)tcp[5] << 16 | (uint32_t)tcp[6] << 8 | tcp[7];
  size_t hl = (size_t)(tcp[12] >> 4) * 4;
  uint8_t flags = tcp[13];
  if (hl < 20 || hl > len || !port_wanted(dport)) return;
  const uint8_t *data = tcp + hl;
  size_t n = len - hl;
  struct flow *f = find(fam, src, dst, sport, dport);
  if ((flags & 0x02) && !(flags & 0x10)) { /* SYN: a new connection (a retransmitted SYN: the same one) */
    if (f || (fam == 4 && has_ignored && memcmp(src, ignored_src, 4) == 0)) return;
    for (int i = 0; i < MAX_FLOWS && !f; i++)
      if (!flows[i].used) f = &flows[i];
    if (!f) return; /* table full: this connection is not copied */
    memset(f, 0, sizeof *f);
    f->used = true;
    f->family = fam;
    memcpy(f->src, src, fam == 4 ? 4 : 16);
    memcpy(f->dst, dst, fam == 4 ? 4 : 16);
    f->sport = sport;
    f->dport = dport;
    f->next = seq + 1;
    f->id = next_id++;
    uint8_t open[37] = {fam};
    memcpy(open + 1, &sport, 2);
    memcpy(open + 3, &dport, 2);
    memcpy(open + 5, f->src, 16);
    memcpy(open + 21, f->dst, 16);
    emit(EV_OPEN, f->id, open, sizeof open, true);
    return;
  }
  if (!f) return;
  if (flags & 0x04) return end_flow(f, EV_RESET);
  int32_t ahead = (int32_t)(seq - f->next);
  if (ahead > 0) return end_flow(f, EV_DROP); /* a gap: bytes the capture never saw */
  size_t skip = (size_t)(-ahead);             /* a retransmission overlapping what was copied */
  if (n > skip) {
    if (!emit(EV_DATA, f->id, data + skip, n - skip, false)) return end_flow(f, EV_DROP);
    f->next += (uint32_t)(n - skip);
  }
  if ((flags & 0x01) && seq + (uint32_t)n == f->next) end_flow(f, EV_END);
}

static void on_packet(const uint8_t *p, size_t len, uint16_t proto) {
  if (proto == ETH_P_IP && len >= 20 && (p[0] >> 4) == 4 && p[9] == IPPROTO_TCP) {
    size_t ihl = (size_t)(p[0] & 0xf) * 4;
    size_t total = (size_t)(p[2] << 8 | p[3]);
    if (ihl < 20 || total > len || total < ihl || ((p[6] << 8 | p[7]) & 0x3fff)) return;
    uint8_t src[16] = {0}, dst[16] = {0};
    memcpy(src, p + 12, 4);
    memcpy(dst, p + 16, 4);
    on_tcp(4, src, dst, p + ihl, total - ihl);
  } else if (proto == ETH_P_IPV6 && len >= 40 && (p[0] >> 4) == 6 && p[6] == IPPROTO_TCP) {
    size_t payload = (size_t)(p[4] << 8 | p[5]);
    if (40 + payload > len) return;
    on_tcp(6, p + 8, p + 24, p + 40, payload);
  }
}

static void on_command(char *line) {
  if (strncmp(line, "ports", 5) != 0) return;
  n_ports = 0;
  for (char *t = strtok(line + 5, " \t"); t && n_ports < MAX_PORTS; t = strtok(NULL, " \t")) {
    long v = strtol(t, NULL, 10);
    if (v > 0 && v < 65536) ports[n_ports++] = (uint16_t)v;
  }
}

int main(int argc, char **argv) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--ignore-source") == 0 && i + 1 < argc && inet_pton(AF_INET, argv[i + 1], ignored_src) == 1) {
      has_ignored = true;
      i++;
    } else {
      fprintf(stderr, "podlink-capture: unknown argument %s (usage: podlink-capture [--ignore-source IPv4])\n", argv[i]);
      return 2;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ALL));
  if (fd < 0) die("AF_PACKET socket (CAP_NET_RAW is needed)");
  int one = 1, buf = 32 << 20;
  setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) != 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  set_filter(fd, ports, 0);
  fcntl(1, F_SETFL, fcntl(1, F_GETFL) | O_NONBLOCK);
  emit(EV_READY, 0, NULL, 0, true);
  static uint8_t pkt[SNAP];
  char cmd[4096];
  size_t cmd_len = 0;
  for (;;) {
    struct pollfd pfd[3] = {{0, POLLIN, 0}, {fd, POLLIN, 0}, {1, out_len ? POLLOUT : 0, 0}};
    if (poll(pfd, 3, -1) < 0) {
      if (errno == EINTR) continue;
      die("poll");
    }
    if (pfd[0].revents) {
      ssize_t r = read(0, cmd + cmd_len, sizeof cmd - 1 - cmd_len);
      if (r <= 0) return 0; /* the agent is gone: so is the capture */
      cmd_len += (size_t)r;
      char *nl;
      while ((nl = memchr(cmd, '\n', cmd_len))) {
        *nl = '\0';
        on_command(cmd);
        set_filter(fd, ports, n_ports);
        emit(EV_PORTS, 0, NULL, 0, true);
        cmd_len -= (size_t)(nl + 1 - cmd);
        memmove(cmd, nl + 1, cmd_len);
      }
      if (cmd_len == sizeof cmd - 1) cmd_len = 0;
    }
    if (pfd[1].revents & POLLIN) {
      for (int i = 0; i < 64; i++) {
        struct sockaddr_ll from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(fd, pkt, sizeof pkt, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
        if (n < 0) break;
        if (from.sll_pkttype == PACKET_OUTGOING) continue;
        on_packet(pkt, (size_t)n, ntohs(from.sll_protocol));
      }
    }
    flush_out();
  }
}
