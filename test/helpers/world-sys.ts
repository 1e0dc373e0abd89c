// Low-level pieces of the ring-2 test world: running commands, watching and killing
// processes, the state file, and the teardown that both World.destroy() and
// `world-cli down` use. Kept apart from world.ts so the CLI can clean up a world
// whose creator died without ever constructing a World object.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync, rmdirSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Every netns of world N is named `${N}-${suffix}`; teardown only ever touches these exact names. */
export const NETNS_SUFFIXES = ['laptop', 'laptop2', 'a', 'b', 'dns', 'sw'] as const;
export type NetnsRole = (typeof NETNS_SUFFIXES)[number];

// `pl-` keeps us clear of the test cluster's `kcl*` namespaces; the length cap keeps
// `${name}-laptop` comfortably short for error messages and `ip netns list`.
const NAME_RE = /^pl-[a-z0-9][a-z0-9-]{0,23}$/;

export function checkWorldName(name: string): void {
  if (!NAME_RE.test(name) || name.endsWith('-')) {
    throw new Error(`invalid world name '${name}': must match ${NAME_RE} (netns names must start with pl-)`);
  }
}

export function netnsName(world: string, role: NetnsRole): string {
  return `${world}-${role}`;
}

/** The world's temp dir is derived from its name so `down --name N` finds it; creating it is the name lock. */
export function worldDir(world: string): string {
  return join(tmpdir(), `podlink-world-${world}`);
}

export const ETC_NETNS = '/etc/netns';

export interface ExecResult { code: number | null; stdout: string; stderr: string }

/** Runs a program without a shell; never rejects for a non-zero exit (callers look at the result). */
export function exec(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { timeout: opts.timeoutMs ?? 15_000, killSignal: 'SIGKILL', maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        if (err && typeof (err as NodeJS.ErrnoException).code === 'string') {
          reject(new Error(`cannot run ${cmd}: ${err.message}`)); // e.g. ENOENT: program missing
          return;
        }
        const code = err ? ((err as { code?: number | null }).code ?? null) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    child.stdin?.on('error', () => {}); // EPIPE when the program never reads its stdin
    child.stdin?.end(opts.input ?? '');
  });
}

/** Like exec, but a non-zero exit is an error that quotes the command and its stderr. */
export async function must(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<string> {
  const r = await exec(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(`\`${cmd} ${args.join(' ')}\` failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  }
  return r.stdout;
}

export async function netnsList(): Promise<string[]> {
  const out = await must('ip', ['netns', 'list']);
  // Lines look like "pl-3f2a-a (id: 3)" or just "pl-3f2a-a".
  return out.split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '').filter(Boolean);
}

/** Pids of every process whose network namespace is the named one (zombies have none, so they are not listed). */
export async function netnsPids(ns: string): Promise<number[]> {
  const r = await exec('ip', ['netns', 'pids', ns]);
  if (r.code !== 0) return [];
  return r.stdout.split(/\s+/).filter(Boolean).map(Number).filter((n) => Number.isInteger(n) && n > 1);
}

/** Field 22 of /proc/PID/stat: start time in clock ticks; with the pid it names one process, not a reused pid. */
export function procStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces and parentheses: split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19] ?? null; // rest[0] is field 3 (state), so field 22 is rest[19]
  } catch {
    return null;
  }
}

/** True while the process exists and is not a zombie (a zombie has already dropped its namespaces and files). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

async function waitGone(pids: number[], ms: number): Promise<number[]> {
  const until = Date.now() + ms;
  let left = pids.filter(alive);
  while (left.length && Date.now() < until) {
    await sleep(20);
    left = left.filter(alive);
  }
  return left;
}

/** SIGTERM, up to graceMs for them to go, then SIGKILL and wait again: returns pids still alive (should be none). */
export async function killAll(pids: number[], graceMs = 1500): Promise<number[]> {
  let left = pids.filter(alive);
  for (const p of left) signal(p, 'SIGTERM');
  left = await waitGone(left, graceMs);
  for (const p of left) signal(p, 'SIGKILL');
  return waitGone(left, 3000);
}

/** What a world has created so far; written to disk after every step so `down` can undo a half-built world. */
export interface WorldState {
  name: string;
  ownerPid: number;
  dir: string;
  netns: string[];
  etcDirs: string[];
  pids: { pid: number; start: string | null; what: string }[];
}

export function stateFile(dir: string): string {
  return join(dir, 'state.json');
}

export function saveState(s: WorldState): void {
  // Write-then-rename so a reader never sees half a file.
  const f = stateFile(s.dir);
  writeFileSync(`${f}.tmp`, JSON.stringify(s, null, 2));
  renameSync(`${f}.tmp`, f);
}

export function loadState(world: string): WorldState | null {
  try {
    return JSON.parse(readFileSync(stateFile(worldDir(world)), 'utf8')) as WorldState;
  } catch {
    return null;
  }
}

/**
 * Undo a world: kill its processes (recorded ones whose start time still matches, plus
 * anything living in its namespaces), delete the namespaces, /etc/netns dirs and the temp dir.
 * Only names listed in `s` are touched. Returns a list of what it removed, for the CLI.
 */
export async function teardown(s: WorldState): Promise<string[]> {
  const done: string[] = [];
  const existing = new Set(await netnsList());
  const pids = new Set<number>();
  for (const p of s.pids) if (p.start !== null && procStartTime(p.pid) === p.start) pids.add(p.pid);
  for (const ns of s.netns) if (existing.has(ns)) for (const p of await netnsPids(ns)) pids.add(p);
  pids.delete(process.pid); // never ourselves, even if someone ran us inside the world
  const living = [...pids].filter(alive);
  const stubborn = await killAll(living);
  if (living.length) done.push(`killed ${living.length} process(es): ${living.join(' ')}`);
  const errors: string[] = [];
  if (stubborn.length) errors.push(`processes did not die: ${stubborn.join(' ')}`);
  // Pods before the switch: purely cosmetic (veths die with either end), but it reads naturally in logs.
  for (const ns of [...s.netns].reverse()) {
    if (!existing.has(ns)) continue;
    const r = await exec('ip', ['netns', 'del', ns]);
    if (r.code === 0) done.push(`deleted netns ${ns}`);
    else errors.push(`ip netns del ${ns}: ${r.stderr.trim()}`);
  }
  for (const d of s.etcDirs) {
    if (!existsSync(d)) continue;
    rmSync(d, { recursive: true, force: true });
    done.push(`removed ${d}`);
  }
  // /etc/netns itself: remove it only when no other world (or anything else) uses it.
  try {
    rmdirSync(ETC_NETNS);
  } catch {
    /* not empty or already gone: leave it */
  }
  if (existsSync(s.dir)) {
    rmSync(s.dir, { recursive: true, force: true });
    done.push(`removed ${s.dir}`);
  }
  if (errors.length) throw new Error(`teardown of ${s.name} incomplete: ${errors.join('; ')}`);
  return done;
}

/** For `down --name N` when the creator is gone: the state file if any, plus the exact netns/etc names of N. */
export async function teardownByName(world: string): Promise<string[]> {
  checkWorldName(world);
  const s = loadState(world);
  const netns = NETNS_SUFFIXES.map((r) => netnsName(world, r));
  const etcDirs = [join(ETC_NETNS, netnsName(world, 'a'))];
  return teardown({
    name: world,
    ownerPid: s?.ownerPid ?? 0,
    dir: worldDir(world),
    netns: [...new Set([...(s?.netns ?? []), ...netns])],
    etcDirs: [...new Set([...(s?.etcDirs ?? []), ...etcDirs])],
    pids: s?.pids ?? [],
  });
}
