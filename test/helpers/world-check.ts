// Small helpers for tests that inspect the ring-2 world from outside (root netns, /proc).
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { alive, exec, netnsList, netnsPids } from './world-sys.js';

export { alive, exec, netnsList, netnsPids };

/** The root netns as `ip` shows it: interfaces, addresses, routes. Compared before/after a world. */
export async function rootNetSnapshot(): Promise<string> {
  const parts: string[] = [];
  for (const args of [['-o', 'link'], ['-o', 'addr'], ['route', 'show', 'table', 'all'], ['-6', 'route', 'show', 'table', 'all']]) {
    const r = await exec('ip', args);
    // Lifetimes of DHCP/SLAAC addresses and routes count down: not a change we made.
    const stable = r.stdout.replace(/(valid_lft|preferred_lft|expires) \S+/g, '$1 _');
    parts.push(`## ip ${args.join(' ')}\n${stable}`);
  }
  return parts.join('\n');
}

/** Run a command in the target's network AND mount namespaces: what the target's own resolver sees. */
export function inTarget(pid: number, cmd: string, args: string[], timeoutMs = 20_000) {
  return exec('nsenter', ['-t', String(pid), '-n', '-m', '--', cmd, ...args], { timeoutMs });
}

/** Pids of living processes whose command line mentions `needle` (e.g. a world's name or dir). */
export function pidsMentioning(needle: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(needle) && alive(Number(d))) out.push(Number(d));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** Living (non-zombie) direct children of this process. */
export function livingChildren(): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[1]) === process.pid && f[0] !== 'Z') out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Poll `fn` until it returns true or `ms` pass; returns the last value. */
export async function eventually(fn: () => boolean | Promise<boolean>, ms = 3000): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (await fn()) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A UDP round trip written in node, run inside some netns by the caller: prints the reply or the error code. */
export const UDP_CLIENT = `
const s = require('dgram').createSocket('udp4');
const [host, port, msg] = process.argv.slice(1);
const t = setTimeout(() => { console.log('TIMEOUT'); process.exit(1); }, 3000);
s.on('message', (m) => { console.log(m.toString()); clearTimeout(t); s.close(); });
s.on('error', (e) => { console.log(e.code); process.exit(1); });
s.send(msg, Number(port), host, (e) => { if (e) { console.log(e.code); process.exit(1); } });
`;

/** Connects to a throwaway server on `host` (127.0.0.1 or ::1): prints "ok <host>" when loopback works. */
export const LOOPBACK_CLIENT = `
const net = require('net');
const host = process.argv[1];
const srv = net.createServer((c) => c.end('ok')).listen(0, host, () => {
  net.connect(srv.address().port, host).on('data', (d) => { console.log(d + ' ' + host); process.exit(0); })
    .on('error', (e) => { console.log(e.code); process.exit(1); });
});
`;

/** Runs node's execFile and resolves with code/stdout/stderr, for the CLI tests. */
export function nodeScript(script: string, args: string[], timeoutMs = 30_000) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [script, ...args], { timeout: timeoutMs }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}
