/**
 * The three arms of the ring-2 outgoing benchmarks, in one test world (test/helpers/world.ts):
 *
 *   direct   the client inside pod A's network namespace, straight to pod B
 *   floor    the client on the laptop, through the floor relay (floor.ts): near on the laptop, far
 *            in pod A's netns on the near's pipe, the minimal two-hop Node relay of podlink's shape;
 *            started afresh for each run, as podlink's intproxy and agent are
 *   podlink  the client on the laptop under `podlink exec -t pid/<pod A>`, to pod B's address
 *
 * Pod B runs servers.ts (HTTP on HTTP_PORT, echo on ECHO_PORT). Every arm names pod B by address, so
 * no arm pays for DNS (podlink by name adds one Resolve round trip per new connection).
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../common/paths.js';
import { createWorld, type World } from '../test/helpers/world.js';

export type Arm = 'direct' | 'floor' | 'podlink';
export const ARMS: readonly Arm[] = ['direct', 'floor', 'podlink'];

const HTTP_PORT = 8081;
const ECHO_PORT = 8082;
/** The floor's near end listens on these loopback ports of the laptop. */
const FLOOR_HTTP = 18081;
const FLOOR_ECHO = 18082;
const cli = path.join(packageRoot, 'bin', 'podlink.js');
const benchDir = path.join(packageRoot, 'dist', 'bench');

/** Where an arm's client connects to reach pod B's HTTP and echo servers. */
export interface Endpoint {
  host: string;
  http: number;
  echo: number;
}

export interface RunResult {
  stdout: string;
  /** CPU seconds of the relay's two processes over the run (intproxy + agent, or near + far). */
  relayCpu: number;
}

export interface Bench {
  world: World;
  endpoint(arm: Arm): Endpoint;
  /** Runs argv in the arm's place (podlink: under `podlink exec`), `env` added for podlink's parts. */
  run(arm: Arm, argv: string[], opts?: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number }): Promise<RunResult>;
  /** Spawns argv in the arm's place with piped stdio, for clients that talk to the benchmark (floor: startFloor first). */
  spawn(arm: Arm, argv: string[], env?: NodeJS.ProcessEnv): ChildProcess;
  /** A fresh floor relay listening on its ports; kill it when done. */
  startFloor(): Promise<ChildProcess>;
  destroy(): Promise<void>;
}

/** Resolves with the first stdout line that parses as JSON with `ready`. */
export function readyLine(child: ChildProcess, what: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      for (const line of out.split('\n')) {
        if (line.startsWith('{') && line.includes('"ready"')) resolve(JSON.parse(line));
      }
    });
    child.once('exit', (code) => reject(new Error(`${what} exited (${code}) before it was ready: ${out}`)));
  });
}

/** The light C client, built once per run. */
export function httpc(): string {
  const out = path.join(benchDir, 'httpc');
  execFileSync('gcc', ['-O2', '-o', out, path.join(packageRoot, 'bench', 'httpc.c')]);
  return out;
}

/** A process and its descendants. */
export function processTree(pid: number): number[] {
  let kids: number[] = [];
  try {
    kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // gone
  }
  return [pid, ...kids.flatMap(processTree)];
}

/** CPU seconds (user + system) a process has used, NaN once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

export function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

/** The relay's processes under `root`: podlink's intproxy and agent, or the floor's near and far. */
export const isRelay = (cmd: string): boolean => /intproxy\/main\.js|agent\/main\.js|floor\.js/.test(cmd);

/** Runs a child to its end, sampling the CPU time of the relay processes below it as it goes. */
function runSampled(child: ChildProcess, input: string | undefined, timeoutMs: number, also: number[] = []): Promise<{ code: number | null; stdout: string; stderr: string; relayCpu: number }> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const cpu = new Map<number, number>();
    const sample = (): void => {
      for (const pid of [child.pid!, ...also].flatMap(processTree)) {
        if (!cpu.has(pid) && !isRelay(cmdline(pid))) continue;
        const s = cpuSeconds(pid);
        if (!Number.isNaN(s)) cpu.set(pid, s);
      }
    };
    const sampler = setInterval(sample, 25);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(input ?? '');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      clearInterval(sampler);
      resolve({ code, stdout, stderr, relayCpu: [...cpu.values()].reduce((a, b) => a + b, 0) });
    });
  });
}

export async function createBench(): Promise<Bench> {
  const world = await createWorld();
  try {
    const node = process.execPath;
    const servers = world.spawnIn(world.podB.netns, node, [path.join(benchDir, 'servers.js'), String(HTTP_PORT), String(ECHO_PORT)], { stdio: ['ignore', 'pipe', 'inherit'] });
    await readyLine(servers, 'bench servers');
    // The floor starts afresh for every run, as podlink's intproxy and agent do: the same JIT warm-up.
    const far = ['nsenter', `--target=${world.podA.pid}`, '--net', '--', node, path.join(benchDir, 'floor.js'), 'far'];
    const floorNear = [node, path.join(benchDir, 'floor.js'), 'near', `${FLOOR_HTTP}=${world.podB.ip}:${HTTP_PORT}`, `${FLOOR_ECHO}=${world.podB.ip}:${ECHO_PORT}`, '--', ...far];
    const startFloor = async (): Promise<ChildProcess> => {
      const near = world.spawnIn(world.laptop, floorNear[0]!, floorNear.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
      await readyLine(near, 'floor relay');
      return near;
    };
    const endpoint = (arm: Arm): Endpoint =>
      arm === 'floor' ? { host: '127.0.0.1', http: FLOOR_HTTP, echo: FLOOR_ECHO } : { host: world.podB.ip, http: HTTP_PORT, echo: ECHO_PORT };
    const place = (arm: Arm, argv: string[]): [string, string, string[]] =>
      arm === 'direct'
        ? [world.podA.netns, argv[0]!, argv.slice(1)]
        : arm === 'floor'
          ? [world.laptop, argv[0]!, argv.slice(1)]
          : [world.laptop, node, [cli, 'exec', '-q', '-t', `pid/${world.podA.pid}`, '--', ...argv]];
    const spawn = (arm: Arm, argv: string[], env?: NodeJS.ProcessEnv): ChildProcess => {
      const [ns, cmd, args] = place(arm, argv);
      return world.spawnIn(ns, cmd, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    };
    return {
      world,
      endpoint,
      async run(arm, argv, opts = {}) {
        const near = arm === 'floor' ? await startFloor() : undefined;
        const r = await runSampled(spawn(arm, argv, opts.env), opts.input, opts.timeoutMs ?? 600_000, near ? [near.pid!] : []).finally(() => near?.kill());
        if (r.code !== 0) throw new Error(`${arm}: ${argv.slice(0, 3).join(' ')} … failed (${r.code}): ${r.stderr.trim().split('\n').slice(-4).join(' | ')}`);
        return { stdout: r.stdout, relayCpu: r.relayCpu };
      },
      spawn,
      startFloor,
      destroy: () => world.destroy(),
    };
  } catch (e) {
    await world.destroy();
    throw e;
  }
}

/** Resident memory of a process, in KiB (VmRSS). */
export function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** The machine's load average (1, 5, 15 min), for the header of every report. */
export function loadAverage(): string {
  return fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}
