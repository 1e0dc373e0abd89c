/**
 * Incoming traffic, on a network-namespace world (pid target), every figure a ratio against a baseline
 * measured in the same run, arms alternating within each round (setting up: incoming-arms.ts):
 *   (a) latency of requests the filter does not match, to the pod, while a filtered steal is active,
 *       vs no session (p50 and p99; keep-alive node client in pod B)          target ≤ 1.1×
 *       and against the floor: the pod's port redirected to the smallest Node relay in the pod that
 *       parses nothing (raw), or that only finds the messages' bounds with llhttp (llhttp)
 *   (s) issue 15: the same unmatched latency with 1 and with 5 filtering sessions on the pod (from
 *       two laptops), vs no session                                             target ≤ 1.15× at 5
 *   (b) the pod's throughput (a client in pod B uploading to the pod's app) while its port is mirrored
 *       to a local app, vs not mirrored                                         target ≥ 0.9×
 *   (c) a stolen connection's throughput (pod B → the local app) vs the same upload direct to the
 *       pod's app, and against the floor: floor.ts's two-hop relay, pod A → laptop  target ≥ 0.8×
 *   (m) the same upload as one request a filter matches (filtered steal, HTTP/1): its bytes cross
 *       the dispatcher and a link connection (LinkStream) rather than a whole-connection relay
 *   sudo node dist/bench/incoming.js [--rounds N] [--requests N] [--mib N] [--parts asbcm] [--trace DIR]
 * --trace DIR: podlink's processes write their per-hop trace there (link/trace.ts; bench/trace.js).
 */
import path from 'node:path';
import { packageRoot } from '../common/paths.js';
import { podServer } from '../test/helpers/incoming.js';
import { createWorld, type World } from '../test/helpers/world.js';
import { floorSink, oneThenMany, withFloorA, withFloorC, withSession } from './incoming-arms.js';
import { loadAverage } from './arms.js';
import { median, percentile, ratioSummary } from './stats.js';

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
};
const ROUNDS = Number(arg('rounds', '3'));
const REQUESTS = Number(arg('requests', '1500'));
const MIB = Number(arg('mib', '256'));
const PARTS = arg('parts', 'asbcm');
const TRACE = arg('trace', '');
if (TRACE) process.env['PODLINK_TRACE'] = TRACE;
const SINK = 8085;
const MANY = 5;

type LatArm = 'direct' | 'raw' | 'llhttp' | 'podlink' | 'sessions5';
type RateArm = 'direct' | 'floor' | 'mirrored' | 'stolen' | 'matched';

async function latencies(world: World): Promise<number[]> {
  const client = path.join(packageRoot, 'bench', 'http-client.mjs');
  const r = await world.runIn(world.podB.netns, process.execPath, [client, `http://${world.podA.ip}:${world.podA.httpPort}/bench`, String(REQUESTS), 'keepalive', '200'], { timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`latency client failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as number[];
}

async function upload(world: World, header: string[] = []): Promise<number> {
  const client = path.join(packageRoot, 'bench', 'upload-client.mjs');
  const r = await world.runIn(world.podB.netns, process.execPath, [client, `http://${world.podA.ip}:${SINK}/up`, String(MIB), ...header], { timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`upload client failed: ${r.stderr}`);
  const { mibps, received } = JSON.parse(r.stdout) as { mibps: number; received: number };
  if (received !== MIB * 1024 * 1024) throw new Error(`the server counted ${received} bytes of ${MIB} MiB`);
  return mibps;
}

const label: Record<LatArm, string> = {
  direct: 'no session',
  raw: 'floor: relay, parses nothing',
  llhttp: 'floor: relay + llhttp bounds',
  podlink: 'podlink, 1 filtered session',
  sessions5: `podlink, ${MANY} filtered sessions`,
};

function printLatency(v: Partial<Record<LatArm, number[][]>>): void {
  for (const arm of Object.keys(label) as LatArm[]) {
    const all = v[arm]?.flat();
    if (all?.length) console.log(`  ${label[arm].padEnd(32)} p50 ${percentile(all, 50).toFixed(0).padStart(5)} µs   p99 ${percentile(all, 99).toFixed(0).padStart(6)} µs`);
  }
  const per = (arm: LatArm, p: number): number[] => v[arm]!.map((s) => percentile(s, p));
  const line = (a: LatArm, b: LatArm, note = ''): void => {
    if (!v[a]?.length || !v[b]?.length) return;
    const r = (p: number): string => ratioSummary(per(a, p).map((x, i) => x / per(b, p)[i]!));
    console.log(`  ${`${a}/${b}`.padEnd(20)} p50 ${r(50)}, p99 ${r(99)}${note}`);
  };
  line('raw', 'direct');
  line('llhttp', 'direct');
  line('podlink', 'direct', '   (a) target ≤ 1.1×');
  line('podlink', 'raw');
  line('podlink', 'llhttp');
  line('sessions5', 'direct', `   (issue 15) target ≤ 1.15× at ${MANY}`);
  line('sessions5', 'podlink');
  if (v.direct?.length && v.raw?.length && v.podlink?.length) {
    const d = per('direct', 50);
    const added = (arm: LatArm): number => median(per(arm, 50).map((x, i) => x - d[i]!));
    console.log(`  added over no session, p50: floor raw ${added('raw').toFixed(0)} µs, llhttp ${v.llhttp?.length ? added('llhttp').toFixed(0) : '-'} µs, podlink ${added('podlink').toFixed(0)} µs`);
  }
}

function printRates(v: Partial<Record<RateArm, number[]>>): void {
  for (const arm of ['direct', 'floor', 'mirrored', 'stolen', 'matched'] as const) {
    if (v[arm]?.length) console.log(`  ${arm.padEnd(10)} median ${median(v[arm]!).toFixed(0).padStart(6)} MiB/s`);
  }
  const line = (a: RateArm, b: RateArm, note = ''): void => {
    if (v[a]?.length && v[b]?.length) console.log(`  ${`${a}/${b}`.padEnd(16)} ${ratioSummary(v[a]!.map((x, i) => x / v[b]![i]!))}${note}`);
  };
  line('mirrored', 'direct', '   (b) target ≥ 0.9×');
  line('floor', 'direct');
  line('stolen', 'direct', '   (c) target ≥ 0.8×');
  line('stolen', 'floor');
  line('matched', 'direct');
  line('matched', 'stolen');
}

async function main(): Promise<void> {
  const world = await createWorld();
  const sink = await podServer(world, 'sink', SINK, 'pod-sink');
  const fsink = PARTS.includes('c') ? await floorSink(world) : undefined;
  try {
    console.log(`Incoming traffic (pid target, netns world; ${ROUNDS} rounds, arms alternating); load average ${loadAverage()}`);
    const lat: Partial<Record<LatArm, number[][]>> = {};
    const rate: Partial<Record<RateArm, number[]>> = {};
    const add = <K extends string, V>(into: Partial<Record<K, V[]>>, k: K, x: V): void => void (into[k] ??= []).push(x);
    const filtered = { feature: { network: { incoming: { mode: 'steal', http_filter: { header_filter: '^X-Dev-User: nobody-sends-this$' } } } } };
    for (let round = 0; round < ROUNDS; round++) {
      if (/[as]/.test(PARTS)) {
        add(lat, 'direct', await latencies(world));
        if (PARTS.includes('a')) {
          add(lat, 'raw', await withFloorA(world, 'raw', () => latencies(world)));
          add(lat, 'llhttp', await withFloorA(world, 'llhttp', () => latencies(world)));
        }
        if (PARTS.includes('s')) {
          const [one, many] = await oneThenMany(world, MANY, () => latencies(world));
          add(lat, 'podlink', one);
          add(lat, 'sessions5', many);
        } else {
          add(lat, 'podlink', await withSession(world, filtered, ['http', world.podA.httpPort, 'local'], () => latencies(world)));
        }
        const p = (arm: LatArm): string => (lat[arm]?.[round] ? `${arm} ${percentile(lat[arm]![round]!, 50).toFixed(0)}/${percentile(lat[arm]![round]!, 99).toFixed(0)}` : '');
        console.log(`  round ${round + 1} p50/p99 µs: ${(Object.keys(label) as LatArm[]).map(p).filter(Boolean).join(', ')}`);
      }
      if (!/[bcm]/.test(PARTS)) continue;
      add(rate, 'direct', await upload(world));
      if (PARTS.includes('c')) add(rate, 'floor', await withFloorC(world, SINK, () => upload(world)));
      if (PARTS.includes('b')) add(rate, 'mirrored', await withSession(world, { feature: { network: { incoming: 'mirror' } } }, ['sink', SINK, 'local-sink'], () => upload(world)));
      if (PARTS.includes('c')) add(rate, 'stolen', await withSession(world, { feature: { network: { incoming: 'steal' } } }, ['sink', SINK, 'local-sink'], () => upload(world)));
      if (PARTS.includes('m')) {
        const matching = { feature: { network: { incoming: { mode: 'steal', http_filter: { header_filter: '^X-Dev-User: bench$' } } } } };
        add(rate, 'matched', await withSession(world, matching, ['sink', SINK, 'local-sink'], () => upload(world, ['X-Dev-User', 'bench'])));
      }
      console.log(`  round ${round + 1} upload ${MIB} MiB, MiB/s: ${(Object.keys(rate) as RateArm[]).map((k) => `${k} ${rate[k]![round]!.toFixed(0)}`).join(', ')}`);
    }
    if (Object.keys(lat).length) {
      console.log(`unmatched requests, ${REQUESTS} sequential keep-alive GETs from pod B per arm and round (after 200 not counted)`);
      printLatency(lat);
    }
    if (Object.keys(rate).length) {
      console.log(`one ${MIB} MiB upload from pod B to the pod's port`);
      printRates(rate);
    }
    console.log(`load average after: ${loadAverage()}`);
  } finally {
    sink.kill('SIGKILL');
    fsink?.kill('SIGKILL');
    await world.destroy();
  }
}

main().catch((e: Error) => {
  console.error(`bench: ${e.message}`);
  process.exit(1);
});
