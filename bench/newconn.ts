/**
 * What one new connection costs each process on its way (layer → intproxy → agent → target and back),
 * podlink against the floor, from the difference of two runs of the light C client (`httpc … close`,
 * a new connection per request) so start-up cancels out:
 *
 *   cpu        CPU time per connection (user + system, every thread), from /proc
 *   wake-ups   context switches per connection (voluntary + involuntary, every thread), from /proc
 *   syscalls   system calls per connection and the commonest of them (strace -f, a separate pair of runs)
 *
 *   node dist/bench/newconn.js [--n 100,600] [--no-strace]
 * Needs root (network namespaces), strace and gcc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../common/paths.js';
import { cmdline, createBench, httpc, processTree, type Bench } from './arms.js';

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const [n1, n2] = arg('n', '100,600').split(',').map(Number) as [number, number];
const withStrace = !process.argv.includes('--no-strace');
const cli = path.join(packageRoot, 'bin', 'podlink.js');

type Role = 'app' | 'intproxy' | 'agent' | 'near' | 'far';

function roleOf(cmd: string, app: string): Role | undefined {
  if (cmd.includes('intproxy/main.js')) return 'intproxy';
  if (cmd.includes('agent/main.js')) return 'agent';
  if (cmd.includes('floor.js\0near')) return 'near';
  if (cmd.includes('floor.js\0far')) return 'far';
  if (cmd.startsWith(app)) return 'app';
  return undefined;
}

/** CPU seconds and context switches of every thread of a process. */
function taskStats(pid: number): { cpu: number; switches: number } {
  let cpu = 0;
  let switches = 0;
  let tasks: string[] = [];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return { cpu: NaN, switches: NaN };
  }
  for (const t of tasks) {
    try {
      const f = fs.readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8').split(') ')[1]!.split(' ');
      cpu += (Number(f[11]) + Number(f[12])) / 100;
      const st = fs.readFileSync(`/proc/${pid}/task/${t}/status`, 'utf8');
      switches += Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(st)?.[1]) + Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(st)?.[1]);
    } catch {
      // the thread ended
    }
  }
  return { cpu, switches };
}

type Stats = Partial<Record<Role, { cpu: number; switches: number }>>;

/** Runs the child to its end, keeping the last CPU/switch sample of each process of interest. */
function sampled(child: ChildProcess, roots: number[], app: string): Promise<Stats> {
  return new Promise((resolve, reject) => {
    const last = new Map<number, { role: Role; cpu: number; switches: number }>();
    const sample = (): void => {
      for (const pid of [child.pid!, ...roots].flatMap(processTree)) {
        const role = last.get(pid)?.role ?? roleOf(cmdline(pid), app);
        if (!role) continue;
        const s = taskStats(pid);
        if (!Number.isNaN(s.cpu)) last.set(pid, { role, ...s });
      }
    };
    const timer = setInterval(sample, 10);
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout?.resume();
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(timer);
      if (code !== 0) return reject(new Error(`client failed (${code}): ${err.trim()}`));
      const out: Stats = {};
      for (const v of last.values()) {
        const o = (out[v.role] ??= { cpu: 0, switches: 0 });
        o.cpu += v.cpu;
        o.switches += v.switches;
      }
      resolve(out);
    });
  });
}

function clientArgv(b: Bench, arm: 'floor' | 'podlink', exe: string, n: number): string[] {
  const e = b.endpoint(arm);
  return [exe, e.host, String(e.http), '/bench', String(n), 'close', '0'];
}

/** Every thread id of a process and its descendants, with its role. */
function tidRoles(root: number, app: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const pid of processTree(root)) {
    const role = roleOf(cmdline(pid), app);
    if (!role) continue;
    for (const t of fs.readdirSync(`/proc/${pid}/task`)) out.set(t, role);
  }
  return out;
}

async function runOnce(b: Bench, arm: 'floor' | 'podlink', exe: string, n: number, straceDir?: string): Promise<{ stats: Stats; roles?: Map<string, string> }> {
  const argv = clientArgv(b, arm, exe, n);
  const strace = (a: string[]): string[] => (straceDir ? ['strace', '-f', '-ff', '-qq', '-s', '200', '-o', path.join(straceDir, 't'), ...a] : a);
  if (arm === 'floor') {
    const near = await b.startFloor();
    // The relay is traced from its ready line on (attached), the client from its start.
    const roles = straceDir ? tidRoles(near.pid!, exe) : undefined;
    const tracer = straceDir ? spawn('strace', ['-f', '-ff', '-qq', '-o', path.join(straceDir, 'r'), ...[...roles!.keys()].flatMap((t) => ['-p', t])], { stdio: 'ignore' }) : undefined;
    if (tracer) await new Promise((r) => setTimeout(r, 500));
    try {
      const c = strace(argv);
      return { stats: await sampled(b.world.spawnIn(b.world.laptop, c[0]!, c.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] }), [near.pid!], exe), roles };
    } finally {
      near.kill();
      tracer?.kill('SIGINT');
      if (tracer) await new Promise((r) => tracer.once('exit', r));
    }
  }
  const full = strace([process.execPath, cli, 'exec', '-q', '-t', `pid/${b.world.podA.pid}`, '--', ...argv]);
  return { stats: await sampled(b.world.spawnIn(b.world.laptop, full[0]!, full.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] }), [], exe) };
}

/** Syscall counts per role from a directory of `strace -ff` files (one per thread id). */
function straceCounts(dir: string, exe: string, known?: Map<string, string>): Record<string, Map<string, number>> {
  const byPid = new Map<string, Map<string, number>>();
  const roleByPid = new Map<string, string>(known ?? []);
  const parent = new Map<string, string>();
  for (const f of fs.readdirSync(dir)) {
    const pid = f.split('.').pop()!;
    const counts = new Map<string, number>();
    for (const line of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      const child = /^(?:<\.\.\. )?(?:clone3?|fork|vfork)\b.* = (\d+)$/.exec(line)?.[1];
      if (child) parent.set(child, pid);
      const m = /^([a-z0-9_]+)\(/.exec(line);
      if (!m) continue;
      counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + 1);
      if (m[1] === 'execve') {
        const cmd = /execve\("[^"]*", \[(.*)\]/.exec(line)?.[1] ?? '';
        const role = cmd.includes('intproxy/main.js') ? 'intproxy' : cmd.includes('agent/main.js') ? 'agent' : cmd.includes('"near"') ? 'near' : cmd.includes('"far"') ? 'far' : cmd.startsWith(`"${exe}`) ? 'app' : undefined;
        if (role) roleByPid.set(pid, role);
      }
    }
    byPid.set(pid, counts);
  }
  // A thread (or a fork that did not exec) belongs to the nearest ancestor that exec'd as a role.
  const roleOfPid = (pid: string): string | undefined => {
    for (let p: string | undefined = pid, hops = 0; p && hops < 64; p = parent.get(p), hops++) {
      const r = roleByPid.get(p);
      if (r) return r;
    }
    return undefined;
  };
  const out: Record<string, Map<string, number>> = {};
  for (const [pid, counts] of byPid) {
    const owner = roleOfPid(pid);
    if (!owner) continue;
    const o = (out[owner] ??= new Map());
    for (const [k, v] of counts) o.set(k, (o.get(k) ?? 0) + v);
  }
  return out;
}

async function main(): Promise<void> {
  const exe = httpc();
  const b = await createBench();
  try {
    console.log(`Per new connection (httpc, a new connection per GET; runs of ${n2} − ${n1}); load average ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
    for (const arm of ['floor', 'podlink'] as const) {
      await runOnce(b, arm, exe, 20); // warm the page cache and the JIT's code cache
      const a = (await runOnce(b, arm, exe, n1)).stats;
      const z = (await runOnce(b, arm, exe, n2)).stats;
      const per = (Object.keys(z) as Role[]).map((r) => `${r} ${(((z[r]!.cpu - (a[r]?.cpu ?? 0)) / (n2 - n1)) * 1e6).toFixed(0)} µs cpu, ${((z[r]!.switches - (a[r]?.switches ?? 0)) / (n2 - n1)).toFixed(1)} switches`);
      console.log(`  ${arm.padEnd(8)} ${per.join('; ')}`);
      if (!withStrace) continue;
      const dirs = [n1, n2].map(() => fs.mkdtempSync(path.join(os.tmpdir(), 'newconn-')));
      const ra = (await runOnce(b, arm, exe, n1, dirs[0])).roles;
      const rz = (await runOnce(b, arm, exe, n2, dirs[1])).roles;
      const [ca, cz] = [straceCounts(dirs[0]!, exe, ra), straceCounts(dirs[1]!, exe, rz)] as [Record<string, Map<string, number>>, Record<string, Map<string, number>>];
      for (const role of Object.keys(cz)) {
        const diff = [...cz[role]!].map(([k, v]) => [k, (v - (ca[role]?.get(k) ?? 0)) / (n2 - n1)] as const).filter(([, v]) => v >= 0.5).sort((x, y) => y[1] - x[1]);
        const total = diff.reduce((s, [, v]) => s + v, 0);
        console.log(`    ${role.padEnd(8)} ${total.toFixed(0)} syscalls: ${diff.map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
      }
      for (const d of dirs) fs.rmSync(d!, { recursive: true, force: true });
    }
  } finally {
    await b.destroy();
  }
}

main().catch((e: Error) => {
  console.error(`bench: ${e.message}`);
  process.exit(1);
});
