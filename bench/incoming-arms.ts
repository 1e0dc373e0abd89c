/**
 * The arms of the incoming benchmarks (bench/incoming.ts), in one test world: pod A the target, the
 * callers in pod B, the sessions' local apps on the laptops.
 *
 *   floor relay (a)   incoming-floor.ts raw or llhttp in pod A's netns, the pod's port redirected to
 *                     it by an nft table of the bench's own (prerouting only: the relay's own
 *                     connection to the app is not redirected)
 *   floor relay (c)   floor.ts, the outgoing benchmarks' two-hop relay turned round: near in pod A's
 *                     netns (the pod's port redirected to it), far on the laptop on near's pipe,
 *                     connecting to a sink on the laptop's loopback — a stolen connection's shape
 *   sessions          `podlink exec` with a header filter nobody sends, from the world's two laptops
 *                     (each its own app port, mapped onto the pod's port)
 */
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { packageRoot } from '../common/paths.js';
import { endSession, startSession, type Session } from '../test/helpers/incoming.js';
import type { World } from '../test/helpers/world.js';
import { readyLine } from './arms.js';

const benchDir = path.join(packageRoot, 'dist', 'bench');
const TABLE = 'plbench_floor';
/** Where the floor relays listen in pod A. */
const FLOOR_A = 18090;
const FLOOR_C = 18095;
/** The floor (c)'s sink on the laptop. */
const FLOOR_SINK = 18085;
/** The sessions' app ports on their laptops (mapped onto the pod's port). */
const APP_BASE = 18100;

/** Redirects pod A's `port` to `to` (prerouting: callers from other pods); the returned function removes it. */
async function redirect(world: World, port: number, to: number): Promise<() => Promise<void>> {
  const t = `inet ${TABLE}`;
  const rules = `add table ${t}; add chain ${t} pre { type nat hook prerouting priority dstnat + 10; policy accept; }; add rule ${t} pre tcp dport ${port} redirect to :${to}`;
  const r = await world.runIn(world.podA.netns, 'nft', [rules]);
  if (r.code !== 0) throw new Error(`nft in pod A: ${r.stderr.trim()}`);
  return async () => {
    const d = await world.runIn(world.podA.netns, 'nft', ['delete', 'table', t]);
    if (d.code !== 0) throw new Error(`nft in pod A: ${d.stderr.trim()}`);
  };
}

/** Runs `work` with `child` started and ready and the redirect in place; everything gone after. */
async function withRelay<T>(world: World, child: ChildProcess, what: string, port: number, to: number, work: () => Promise<T>): Promise<T> {
  try {
    await readyLine(child, what);
    const undo = await redirect(world, port, to);
    try {
      return await work();
    } finally {
      await undo();
    }
  } finally {
    child.kill('SIGKILL');
  }
}

/** (a)'s floor: the one-hop relay in pod A in front of the pod's HTTP server. */
export function withFloorA<T>(world: World, mode: 'raw' | 'llhttp', work: () => Promise<T>): Promise<T> {
  const child = world.spawnIn(world.podA.netns, process.execPath, [path.join(benchDir, 'incoming-floor.js'), mode, String(FLOOR_A), `${world.podA.ip}:${world.podA.httpPort}`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return withRelay(world, child, `incoming floor (${mode})`, world.podA.httpPort, FLOOR_A, work);
}

/** (c)'s floor: the pod's `port` through the two-hop floor relay to a sink on the laptop. */
export function withFloorC<T>(world: World, port: number, work: () => Promise<T>): Promise<T> {
  const far = ['nsenter', `--net=/run/netns/${world.laptop}`, '--', process.execPath, path.join(benchDir, 'floor.js'), 'far'];
  const child = world.spawnIn(world.podA.netns, process.execPath, [path.join(benchDir, 'floor.js'), 'near', `0.0.0.0:${FLOOR_C}=127.0.0.1:${FLOOR_SINK}`, '--', ...far], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return withRelay(world, child, 'floor relay', port, FLOOR_C, work);
}

/** The sink (c)'s floor delivers to, on the laptop; kill it when done. */
export async function floorSink(world: World): Promise<ChildProcess> {
  const child = world.spawnIn(world.laptop, process.execPath, [path.join(packageRoot, 'test', 'fixtures', 'incoming', 'app.mjs'), 'sink', String(FLOOR_SINK), 'floor-sink'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await readyLine(child, 'floor sink');
  return child;
}

/** A filtered steal of the pod's HTTP port whose filter nobody's requests match (the n-th such session). */
export function filteredSession(world: World, n: number): Promise<Session> {
  const app = APP_BASE + n;
  const config = {
    feature: { network: { incoming: { mode: 'steal', port_mapping: [[app, world.podA.httpPort]], http_filter: { header_filter: `^X-Dev-User: nobody-${n}$` } } } },
  };
  return startSession(world, config, ['http', app, `session-${n}`], { laptop: n % 2 ? world.laptop2 : world.laptop });
}

/**
 * `work(1)` under one filtered session, then `work(n)` with n - 1 more (from both laptops); every
 * session ended after. Returns both results.
 */
export async function oneThenMany<T>(world: World, n: number, work: (sessions: number) => Promise<T>): Promise<[T, T]> {
  const sessions: Session[] = [];
  try {
    sessions.push(await filteredSession(world, 0));
    const one = await work(1);
    while (sessions.length < n) sessions.push(await filteredSession(world, sessions.length));
    return [one, await work(n)];
  } finally {
    await Promise.all(sessions.map((s) => endSession(s)));
  }
}

/** Runs `work` under a session of `config` with the app [kind, port, name]. */
export async function withSession<T>(world: World, config: unknown, app: [string, number, string], work: () => Promise<T>): Promise<T> {
  const s = await startSession(world, config, app);
  try {
    return await work();
  } finally {
    await endSession(s);
  }
}
