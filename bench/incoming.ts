/**
 * Incoming traffic, on a network-namespace world (pid target), every figure a ratio against a baseline
 * measured in the same run, in alternating rounds:
 *   (a) latency of requests the filter does not match, to the pod, while a filtered steal is active,
 *       vs no session (p50 and p99; keep-alive client in pod B)           target ≤ 1.1×
 *   (b) the pod's throughput (a client in pod B uploading to the pod's app) while its port is mirrored
 *       to a local app, vs not mirrored                                      target ≥ 0.9×
 *   (c) a stolen connection's throughput (pod B → the local app) vs the same upload direct to the
 *       pod's app                                                             target ≥ 0.8×
 *   sudo node dist/bench/incoming.js [--rounds N] [--requests N] [--mib N] [--parts abc]
 */
import path from 'node:path';
import { packageRoot } from '../common/paths.js';
import { endSession, podServer, startSession, type Session } from '../test/helpers/incoming.js';
import { createWorld, type World } from '../test/helpers/world.js';
import { percentile, ratioSummary } from './stats.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const ROUNDS = arg('rounds', 3);
const REQUESTS = arg('requests', 1500);
const MIB = arg('mib', 256);
const SINK = 8085;
/** Which figures to measure: `--parts ac` skips (b). */
const PARTS = (() => {
  const i = process.argv.indexOf('--parts');
  return i > 0 ? process.argv[i + 1]! : 'abc';
})();

async function latencies(world: World): Promise<number[]> {
  const client = path.join(packageRoot, 'bench', 'http-client.mjs');
  const r = await world.runIn(world.podB.netns, process.execPath, [client, `http://${world.podA.ip}:${world.podA.httpPort}/bench`, String(REQUESTS), 'keepalive', '200'], { timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`latency client failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as number[];
}

async function upload(world: World): Promise<number> {
  const client = path.join(packageRoot, 'bench', 'upload-client.mjs');
  const r = await world.runIn(world.podB.netns, process.execPath, [client, `http://${world.podA.ip}:${SINK}/up`, String(MIB)], { timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`upload client failed: ${r.stderr}`);
  const { mibps, received } = JSON.parse(r.stdout) as { mibps: number; received: number };
  if (received !== MIB * 1024 * 1024) throw new Error(`the server counted ${received} bytes of ${MIB} MiB`);
  return mibps;
}

async function withSession<T>(world: World, config: unknown, app: [string, number, string], work: () => Promise<T>): Promise<T> {
  const s: Session = await startSession(world, config, app);
  try {
    return await work();
  } finally {
    await endSession(s);
  }
}

async function main(): Promise<void> {
  const world = await createWorld();
  const sink = await podServer(world, 'sink', SINK, 'pod-sink');
  try {
    const filtered = { feature: { network: { incoming: { mode: 'steal', http_filter: { header_filter: '^X-Dev-User: nobody-sends-this$' } } } } };
    const p50: number[] = [];
    const p99: number[] = [];
    const mirror: number[] = [];
    const steal: number[] = [];
    const figures: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      if (PARTS.includes('a')) {
        const direct = await latencies(world);
        const via = await withSession(world, filtered, ['http', world.podA.httpPort, 'local'], () => latencies(world));
        p50.push(percentile(via, 50) / percentile(direct, 50));
        p99.push(percentile(via, 99) / percentile(direct, 99));
        figures.push(`round ${round + 1}: unmatched p50 ${percentile(direct, 50).toFixed(0)} → ${percentile(via, 50).toFixed(0)} µs, p99 ${percentile(direct, 99).toFixed(0)} → ${percentile(via, 99).toFixed(0)} µs`);
      }
      if (!/[bc]/.test(PARTS)) continue;
      const plain = await upload(world);
      const line = [`round ${round + 1}: upload ${MIB} MiB direct ${plain.toFixed(0)} MiB/s`];
      if (PARTS.includes('b')) {
        const mirrored = await withSession(world, { feature: { network: { incoming: 'mirror' } } }, ['sink', SINK, 'local-sink'], () => upload(world));
        mirror.push(mirrored / plain);
        line.push(`mirrored ${mirrored.toFixed(0)} MiB/s`);
      }
      if (PARTS.includes('c')) {
        const stolen = await withSession(world, { feature: { network: { incoming: 'steal' } } }, ['sink', SINK, 'local-sink'], () => upload(world));
        steal.push(stolen / plain);
        line.push(`stolen ${stolen.toFixed(0)} MiB/s`);
      }
      figures.push(line.join(', '));
    }
    console.log(`Incoming traffic (pid target, netns world; ${ROUNDS} alternating rounds)`);
    for (const f of figures) console.log(`  ${f}`);
    if (p50.length) console.log(`(a) unmatched requests under a filtered steal / no session (${REQUESTS} keep-alive GETs per round): p50 ${ratioSummary(p50)}, p99 ${ratioSummary(p99)}   target ≤ 1.1×`);
    if (mirror.length) console.log(`(b) the pod's upload throughput mirrored / not mirrored (${MIB} MiB): ${ratioSummary(mirror)}   target ≥ 0.9×`);
    if (steal.length) console.log(`(c) a stolen connection's upload throughput / direct to the pod (${MIB} MiB): ${ratioSummary(steal)}   target ≥ 0.8×`);
  } finally {
    sink.kill('SIGKILL');
    await world.destroy();
  }
}

await main();
