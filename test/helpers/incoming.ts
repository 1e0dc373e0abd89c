// What the incoming-traffic tests share: `podlink exec` of a local app (test/fixtures/incoming/app.mjs)
// from the laptop netns against pod A, servers of the pod's own in pod A's netns, callers in pod B (or
// inside pod A), and pod A's full ruleset (nft and iptables) to compare before and after a session.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { packageRoot } from '../../common/paths.js';
import type { World } from './world.js';
import { exec } from './world-sys.js';

export const fixtures = path.join(packageRoot, 'test', 'fixtures', 'incoming');
const cli = path.join(packageRoot, 'bin', 'podlink.js');

/** A running `podlink exec -o json … -- node app.mjs KIND PORT NAME`. */
export interface Session {
  child: ChildProcess;
  /** JSON lines of the app (stdout) and of podlink (stderr), as they came. */
  app: Record<string, unknown>[];
  events: Record<string, unknown>[];
  stderr: string;
  /** Resolves with the first line (of `app` or `events`) that `pred` accepts; rejects if the CLI exits first. */
  waitFor(where: 'app' | 'events', pred: (v: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
}

function lines(stream: NodeJS.ReadableStream, into: Record<string, unknown>[], raw: (l: string) => void, changed: () => void): void {
  createInterface({ input: stream }).on('line', (l) => {
    raw(l);
    try {
      into.push(JSON.parse(l) as Record<string, unknown>);
      changed();
    } catch {
      /* not JSON: kept in stderr only */
    }
  });
}

/**
 * Starts the session in its own process group (a terminal's Ctrl-C is `kill(-pid, SIGINT)`), with the
 * config `config` (JSON) and the app `app` = [kind, port, name]; waits until podlink reports `port`.
 */
export async function startSession(
  world: World,
  config: unknown,
  app: [string, number, string],
  opts: { extra?: string[]; waitPort?: number; allowError?: boolean; shell?: (appCommand: string) => string; laptop?: string; program?: string } = {},
): Promise<Session> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podlink-incoming-'));
  fs.writeFileSync(path.join(dir, 'podlink.json'), JSON.stringify(config));
  // `program`: another server speaking app.mjs's arguments and lines (a Go one, for the supervisor).
  const appArgv = [...(opts.program ? [opts.program] : [process.execPath, path.join(fixtures, 'app.mjs')]), app[0], String(app[1]), app[2]];
  // `shell` wraps the app in a shell command line (the session then outlives the app).
  const command = opts.shell ? ['sh', '-c', opts.shell(appArgv.join(' '))] : appArgv;
  const argv = [cli, 'exec', '-o', 'json', '-f', path.join(dir, 'podlink.json'), '-t', `pid/${world.podA.pid}`, ...(opts.extra ?? []), '--', ...command];
  const child = spawn('nsenter', [`--net=/run/netns/${opts.laptop ?? world.laptop}`, '--', process.execPath, ...argv], { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const s: Session = {
    child,
    app: [],
    events: [],
    stderr: '',
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
    waitFor(where, pred) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const hit = s[where].find(pred);
          if (hit) resolve(hit);
          return !!hit;
        };
        if (check()) return;
        waiters.push(check);
        void s.exited.then((code) => reject(new Error(`podlink exec exited (${code}) first; stderr:\n${s.stderr}`)));
      });
    },
  };
  const waiters: (() => boolean)[] = [];
  const changed = (): void => {
    for (const w of [...waiters]) if (w()) waiters.splice(waiters.indexOf(w), 1);
  };
  lines(child.stdout!, s.app, () => undefined, changed);
  lines(child.stderr!, s.events, (l) => (s.stderr += `${l}\n`), changed);
  void s.exited.then(() => fs.rmSync(dir, { recursive: true, force: true }));
  const port = opts.waitPort ?? app[1];
  const e = await s.waitFor('events', (v) => v['event'] === 'incoming' && v['port'] === port);
  if (e['error'] && !opts.allowError) throw new Error(`port ${port} was not subscribed: ${String(e['error'])}`);
  return s;
}

/** Ends a session like a user would: the app exits (SIGTERM to it), podlink follows. */
export async function endSession(s: Session): Promise<number | null> {
  signalGroup(s, 'SIGINT');
  return s.exited;
}

/** A signal to the session's process group: the CLI and the app (not the intproxy or agent: their own groups). */
export function signalGroup(s: Session, sig: NodeJS.Signals): void {
  try {
    process.kill(-s.child.pid!, sig);
  } catch {
    /* gone */
  }
}

/** A server of the pod's own, in pod A's netns, ready. */
export async function podServer(world: World, kind: string, port: number, name = 'pod'): Promise<ChildProcess> {
  const child = world.spawnIn(world.podA.netns, process.execPath, [path.join(fixtures, 'app.mjs'), kind, String(port), name], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => l.includes('"ready"') && resolve());
    child.once('exit', (c) => reject(new Error(`pod server ${kind}:${port} exited (${c})`)));
  });
  return child;
}

/** The abstract unix sockets of pod A's network namespace whose name starts with `@podlink/`. */
export async function podlinkSockets(world: World): Promise<string[]> {
  const r = await exec('nsenter', [`--net=/run/netns/${world.podA.netns}`, '--', 'cat', '/proc/net/unix']);
  if (r.code !== 0) throw new Error(`cannot read pod A's unix sockets: ${r.stderr}`);
  return r.stdout.split('\n').flatMap((l) => /\s(@podlink\/\S+)$/.exec(l)?.[1] ?? []);
}

/** Runs a command in a netns of the world and returns its stdout (throws with stderr on failure). */
export async function callFrom(world: World, netns: string, cmd: string, args: string[]): Promise<string> {
  const r = await world.runIn(netns, cmd, args, { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** Pod A's whole ruleset: `nft list ruleset` and `iptables-save` / `ip6tables-save` (their dated comments left out). */
export async function ruleset(world: World): Promise<string> {
  const run = async (cmd: string, args: string[]): Promise<string> => {
    const r = await exec('nsenter', [`--net=/run/netns/${world.podA.netns}`, '--', cmd, ...args]);
    if (r.code !== 0) throw new Error(`${cmd} failed in pod A: ${r.stderr}`);
    return r.stdout.split('\n').filter((l) => !l.startsWith('#')).join('\n');
  };
  return [await run('nft', ['list', 'ruleset']), await run('iptables-save', []), await run('ip6tables-save', [])].join('\n=====\n');
}

/** Rules of the pod's own, so "as before" compares something: an iptables rule and an nft table. */
export async function podRules(world: World): Promise<void> {
  const run = async (cmd: string, args: string[]): Promise<void> => {
    const r = await exec('nsenter', [`--net=/run/netns/${world.podA.netns}`, '--', cmd, ...args]);
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed in pod A: ${r.stderr}`);
  };
  await run('iptables', ['-A', 'INPUT', '-p', 'tcp', '--dport', '9999', '-j', 'ACCEPT']);
  await run('nft', ['add table inet app_own; add chain inet app_own c { type filter hook input priority 0; policy accept; }; add rule inet app_own c tcp dport 9998 counter accept']);
}

/** Processes (pid, cmdline) whose command line contains every one of `parts`. */
export function processes(...parts: string[]): { pid: number; cmd: string }[] {
  const out: { pid: number; cmd: string }[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let cmd: string;
    try {
      cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    if (parts.every((p) => cmd.includes(p))) out.push({ pid: Number(d), cmd });
  }
  return out;
}

/** Processes living in network namespace `netns` whose command line contains `part`. */
export function inNetns(netns: string, part: string): { pid: number; cmd: string }[] {
  const ino = fs.statSync(`/run/netns/${netns}`).ino;
  return processes(part).filter((p) => {
    try {
      return fs.statSync(`/proc/${p.pid}/ns/net`).ino === ino;
    } catch {
      return false;
    }
  });
}

/** Waits until `find` finds nothing (the agent and its nft are gone); throws after `ms`, naming them. */
export async function gone(ms: number, find: () => { pid: number; cmd: string }[]): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const left = find();
    if (!left.length) return;
    if (Date.now() > until) throw new Error(`still running after ${ms} ms: ${left.map((p) => `${p.pid} ${p.cmd}`).join('; ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
