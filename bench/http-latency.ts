/**
 * Benchmark: HTTP request latency from the laptop netns through podlink (`podlink exec -t pid/<pod A>`)
 * against the same client run directly inside pod A (its network and mount namespaces, so the same
 * URL `http://service-b/` resolves through pod A's DNS in both arms). Arms run interleaved (A B A B …)
 * in the same run; the first round is discarded, and in every run the client's first quarter of
 * requests is a warm-up that is not counted.
 * Prints p50/p99 per arm and the podlink/direct ratios. Needs root.
 *
 *   node dist/bench/http-latency.js [--rounds 6] [--requests 1000]
 */
import path from 'node:path';
import { packageRoot } from '../common/paths.js';
import { createWorld, type World } from '../test/helpers/world.js';
import { percentile, ratioSummary } from './stats.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const rounds = arg('rounds', 6);
const requests = arg('requests', 1000);
const client = path.join(packageRoot, 'bench', 'http-client.mjs');
const cli = path.join(packageRoot, 'bin', 'podlink.js');

async function samples(world: World, arm: 'direct' | 'podlink', mode: 'keepalive' | 'close', count: number): Promise<number[]> {
  const warmup = String(Math.ceil(count / 4));
  const r =
    arm === 'direct'
      ? // Inside pod A's network and mount namespaces: its resolv.conf, its DNS, the same URL.
        await world.runIn(world.podA.netns, 'nsenter', [`--target=${world.podA.pid}`, '--net', '--mount', '--', process.execPath, client, `http://${world.serviceB.short}/bench`, String(count), mode, warmup], { timeoutMs: 600_000 })
      : await world.runIn(
          world.laptop,
          process.execPath,
          [cli, 'exec', '-q', '-t', `pid/${world.podA.pid}`, '--', process.execPath, client, `http://${world.serviceB.short}/bench`, String(count), mode, warmup],
          { timeoutMs: 600_000 },
        );
  if (r.code !== 0) throw new Error(`${arm} arm failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as number[];
}

async function measure(world: World, mode: 'keepalive' | 'close', count: number): Promise<void> {
  const perArm = { direct: [] as number[], podlink: [] as number[] };
  const ratios = { p50: [] as number[], p99: [] as number[] };
  for (let round = 0; round <= rounds; round++) {
    const d = await samples(world, 'direct', mode, count);
    const p = await samples(world, 'podlink', mode, count);
    if (round === 0) continue; // warm-up
    perArm.direct.push(...d);
    perArm.podlink.push(...p);
    ratios.p50.push(percentile(p, 50) / percentile(d, 50));
    ratios.p99.push(percentile(p, 99) / percentile(d, 99));
  }
  const line = (name: string, s: number[]): string => `  ${name.padEnd(34)} p50 ${percentile(s, 50).toFixed(0).padStart(6)} µs   p99 ${percentile(s, 99).toFixed(0).padStart(6)} µs`;
  console.log(`${mode === 'keepalive' ? 'keep-alive connection' : 'new connection per request'} (${count} sequential GETs × ${rounds} rounds, interleaved)`);
  console.log(line('direct, client inside pod A', perArm.direct));
  console.log(line('podlink, client on the laptop', perArm.podlink));
  console.log(`  ratio podlink/direct: p50 ${ratioSummary(ratios.p50)}, p99 ${ratioSummary(ratios.p99)}`);
}

async function main(): Promise<void> {
  const world = await createWorld();
  try {
    console.log('HTTP latency: laptop → podlink → pod A → service-b, vs. pod A → service-b directly');
    await measure(world, 'keepalive', requests);
    await measure(world, 'close', Math.max(50, Math.floor(requests / 5)));
  } finally {
    await world.destroy();
  }
}

main().catch((e: Error) => {
  console.error(`bench: ${e.message}`);
  process.exit(1);
});
