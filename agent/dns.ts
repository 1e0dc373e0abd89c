/**
 * Name resolution exactly as the target would do it: its own /etc/hosts first, then the nameservers,
 * search list and ndots of its own /etc/resolv.conf (glibc's order). The queries leave from the
 * agent's network namespace, which is the target's, so cluster DNS servers are reachable.
 */
import { promises as dns } from 'node:dns';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { E } from '../common/errno.js';
import { logger } from '../common/log.js';
import { RemoteError } from '../link/link.js';
import type { Addr } from '../protocol/types.js';
import { resolveInRoot } from './rootfs.js';

const log = logger('agent');

export interface ResolvConf {
  nameservers: string[];
  search: string[];
  ndots: number;
  timeoutMs: number;
  attempts: number;
}

/** Parse resolv.conf(5): the keywords glibc honours for lookups. */
export function parseResolvConf(text: string): ResolvConf {
  const conf: ResolvConf = { nameservers: [], search: [], ndots: 1, timeoutMs: 5000, attempts: 2 };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (!line) continue;
    const [key, ...rest] = line.split(/\s+/);
    if (key === 'nameserver' && rest[0] && net.isIP(rest[0].replace(/%.*$/, ''))) conf.nameservers.push(rest[0]);
    else if (key === 'search' || key === 'domain') conf.search = rest.map((d) => d.replace(/\.$/, '')).filter(Boolean);
    else if (key === 'options') {
      for (const opt of rest) {
        const [name, value] = opt.split(':');
        const n = Number(value);
        if (name === 'ndots' && Number.isFinite(n)) conf.ndots = Math.min(15, Math.max(0, n));
        if (name === 'timeout' && Number.isFinite(n)) conf.timeoutMs = Math.min(30, Math.max(1, n)) * 1000;
        if (name === 'attempts' && Number.isFinite(n)) conf.attempts = Math.min(5, Math.max(1, n));
      }
    }
  }
  if (conf.nameservers.length === 0) conf.nameservers.push('127.0.0.1'); // glibc's default
  return conf;
}

/** Addresses per lowercase name, with each line's first name as the canonical one. */
export function parseHosts(text: string): Map<string, { canonical: string; addrs: string[] }> {
  const out = new Map<string, { canonical: string; addrs: string[] }>();
  for (const raw of text.split('\n')) {
    const [ip, ...names] = raw.replace(/#.*$/, '').trim().split(/\s+/);
    if (!ip || !net.isIP(ip) || names.length === 0) continue;
    for (const name of names) {
      const key = name.toLowerCase();
      const entry = out.get(key) ?? { canonical: names[0]!, addrs: [] };
      if (!entry.addrs.includes(ip)) entry.addrs.push(ip);
      out.set(key, entry);
    }
  }
  return out;
}

/** The names glibc tries, in order, for `name` under a search list and ndots. */
export function candidates(name: string, conf: ResolvConf): string[] {
  if (name.endsWith('.')) return [name.slice(0, -1)];
  const dots = name.split('.').length - 1;
  const searched = conf.search.map((d) => `${name}.${d}`);
  return dots >= conf.ndots ? [name, ...searched] : [...searched, name];
}

function toAddr(ip: string): Addr {
  return { family: net.isIPv6(ip) ? 6 : 4, ip, port: 0 };
}


/** The longest an answer is reused by the intproxy, whatever the nameserver said (seconds). */
const MAX_TTL = 300;

/** How long a parsed resolv.conf/hosts is trusted before its identity and mtime are checked again. */
const RECHECK_MS = 1000;

/**
 * A target file, re-read only when its identity or mtime changes (the kubelet rewrites resolv.conf),
 * and checked at most once a second: the check costs a path walk inside the target's root.
 */
class WatchedFile<T> {
  private key = '';
  private checkedAt = -Infinity;
  private value: T;

  constructor(
    private readonly root: string,
    private readonly path: string,
    private readonly parse: (text: string) => T,
  ) {
    this.value = parse('');
  }

  get(): T {
    const now = performance.now();
    if (now - this.checkedAt < RECHECK_MS) return this.value;
    this.checkedAt = now;
    try {
      const p = resolveInRoot(this.root, this.path, true);
      const st = fs.statSync(p);
      const key = `${p}:${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
      if (key !== this.key) {
        this.value = this.parse(fs.readFileSync(p, 'utf8'));
        this.key = key;
      }
    } catch {
      if (this.key !== 'missing') {
        this.value = this.parse('');
        this.key = 'missing';
      }
    }
    return this.value;
  }
}

export class TargetResolver {
  private readonly resolvConf: WatchedFile<ResolvConf>;
  private readonly hosts: WatchedFile<ReturnType<typeof parseHosts>>;
  private resolver: { key: string; resolver: dns.Resolver } | undefined;

  constructor(root: string) {
    this.resolvConf = new WatchedFile(root, '/etc/resolv.conf', parseResolvConf);
    this.hosts = new WatchedFile(root, '/etc/hosts', parseHosts);
    // Read the two files and set the resolver up now, between the session's first messages: almost
    // every session resolves a name, and its first lookup was 15-20 ms against ~2.5 ms for the next
    // (measured on the test cluster), ~6-10 ms of which this moves out of the way. A failure here is
    // the first lookup's to report, so it is only logged.
    setImmediate(() => {
      try {
        this.hosts.get();
        this.resolverFor(this.resolvConf.get());
      } catch (e) {
        log.debug('dns', `setting the resolver up: ${(e as Error).message}`);
      }
    });
  }

  private resolverFor(conf: ResolvConf): dns.Resolver {
    const key = JSON.stringify([conf.nameservers, conf.timeoutMs, conf.attempts]);
    if (this.resolver?.key !== key) {
      const resolver = new dns.Resolver({ timeout: conf.timeoutMs, tries: conf.attempts });
      resolver.setServers(conf.nameservers);
      this.resolver = { key, resolver };
    }
    return this.resolver.resolver;
  }

  /**
   * Resolve `name` for `family` (0 any, 4, 6); throws RemoteError (the errno answered to the peer) with
   * ENOENT/ENODATA/EAGAIN. `ttl`: the smallest TTL of the records answered (seconds the intproxy may
   * reuse the answer); 0 for /etc/hosts, which can change at any time.
   */
  async resolve(name: string, family: number): Promise<{ canonical: string; addrs: Addr[]; ttl: number }> {
    const wantFamily = (ip: string): boolean => family === 0 || (family === 4 ? net.isIPv4(ip) : net.isIPv6(ip));

    const fromHosts = this.hosts.get().get(name.replace(/\.$/, '').toLowerCase());
    if (fromHosts) {
      const addrs = fromHosts.addrs.filter(wantFamily);
      if (addrs.length) return { canonical: fromHosts.canonical, addrs: addrs.map(toAddr), ttl: 0 };
    }

    const conf = this.resolvConf.get();
    const resolver = this.resolverFor(conf);
    let sawNoData = false;
    let sawTimeout = false;
    for (const fqdn of candidates(name, conf)) {
      const lookups: Promise<{ address: string; ttl: number }[]>[] = [];
      if (family !== 6) lookups.push(resolver.resolve4(fqdn, { ttl: true }));
      if (family !== 4) lookups.push(resolver.resolve6(fqdn, { ttl: true }));
      const results = await Promise.allSettled(lookups);
      const records = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
      if (records.length) {
        const ttl = Math.min(...records.map((r) => r.ttl));
        return { canonical: fqdn, addrs: records.map((r) => toAddr(r.address)), ttl: Math.max(0, Math.min(ttl, MAX_TTL)) };
      }
      for (const r of results) {
        if (r.status !== 'rejected') {
          sawNoData = true;
          continue;
        }
        const code = (r.reason as NodeJS.ErrnoException).code;
        if (code === dns.NODATA) sawNoData = true;
        else if (code !== dns.NOTFOUND) sawTimeout = true;
      }
    }
    if (sawNoData) throw new RemoteError(E.ENODATA, `${name}: no address of the requested family`);
    if (sawTimeout) throw new RemoteError(E.EAGAIN, `${name}: no answer from ${conf.nameservers.join(', ')}`);
    throw new RemoteError(E.ENOENT, `${name}: name not found`);
  }
}

/**
 * glibc's AI_ADDRCONFIG test (check_pf.c), judged in the agent's network namespace, which is the
 * target's: an IPv4 address other than 127.0.0.1, an IPv6 address other than ::1. The laptop's own
 * answer is irrelevant: the addresses a lookup returns are used from the target's network.
 */
export function addrConfig(): { ipv4: boolean; ipv6: boolean } {
  let ipv4 = false;
  let ipv6 = false;
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family === 'IPv4' && a.address !== '127.0.0.1') ipv4 = true;
      if (a.family === 'IPv6' && a.address !== '::1') ipv6 = true;
    }
  }
  return { ipv4, ipv6 };
}
