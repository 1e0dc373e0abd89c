/**
 * Outgoing traffic through podlink against the same traffic direct and through the floor relay, all
 * three arms in one test world, interleaved round by round, the first round discarded (arms.ts).
 *
 *   bulk      curl downloads of N MiB from pod B, 1 flow and 8 parallel flows
 *   latency   sequential GETs, keep-alive and a new connection per request, with the light C client
 *             (httpc.c) and with node (http-client.mjs); p50/p99 and the latency added over direct
 *   rates     requests/s with 20 concurrent clients: `wrk -c20` (keep-alive), `ab -c20` (a new
 *             connection per request)
 *
 *   node dist/bench/outgoing.js [--rounds 5] [--only bulk,latency,rates | keepalive,newconn,wrk,ab] [--mb 64,256] [--requests 2000] [--arms direct,floor,podlink] [--trace DIR]
 * --trace DIR: the podlink arm writes its per-hop trace there (link/trace.ts; sum up with trace.js).
 * Needs root (network namespaces), curl, wrk, ab and gcc.
 */
import path from 'node:path';
import { packageRoot } from '../common/paths.js';
import { ARMS, createBench, httpc, loadAverage, type Arm, type Bench } from './arms.js';
import { interleaved, printLatency, printRates } from './report.js';
import { median } from './stats.js';

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const rounds = Number(arg('rounds', '5'));
// Parts: bulk, latency (= keepalive + newconn), rates (= wrk + ab).
const groups: Record<string, string[]> = { latency: ['keepalive', 'newconn'], rates: ['wrk', 'ab'] };
const only = new Set(arg('only', 'bulk,latency,rates').split(',').flatMap((p) => groups[p] ?? [p]));
const mbList = arg('mb', '256,1024').split(',').map(Number);
const requests = Number(arg('requests', '2000'));
const nodeClient = path.join(packageRoot, 'bench', 'http-client.mjs');
const arms = arg('arms', ARMS.join(',')).split(',') as Arm[];
const traceDir = arg('trace', '');
const env = traceDir ? { PODLINK_TRACE: traceDir } : {};

async function bulk(b: Bench, mb: number, flows: number): Promise<void> {
  const cpu = { direct: [] as number[], floor: [] as number[], podlink: [] as number[] };
  const v = await interleaved(rounds, arms, async (arm) => {
    const e = b.endpoint(arm);
    const url = `http://${e.host}:${e.http}/blob?mb=${mb / flows}`;
    const argv = ['curl', '-sS', '-Z', '--parallel-max', String(flows), '-w', '%{size_download} %{time_total}\\n'];
    for (let i = 0; i < flows; i++) argv.push('-o', '/dev/null', url);
    const r = await b.run(arm, argv, { env });
    const lines = r.stdout.trim().split('\n').map((l) => l.split(' ').map(Number));
    const bytes = lines.reduce((n, [size]) => n + size!, 0);
    if (bytes !== mb * 1048576) throw new Error(`${arm}: got ${bytes} bytes of ${mb} MiB`);
    cpu[arm].push(r.relayCpu / (mb / 1024));
    return bytes / Math.max(...lines.map(([, t]) => t!)) / 1e6;
  });
  printRates(`bulk download, ${mb} MiB in ${flows} flow${flows > 1 ? 's' : ''} (${rounds} rounds)`, 'MB/s', v);
  console.log(`  relay CPU per GiB (both processes, start-up included): floor ${median(cpu.floor).toFixed(2)} s, podlink ${median(cpu.podlink).toFixed(2)} s`);
}

async function latency(b: Bench, client: 'httpc' | 'node', mode: 'keepalive' | 'close', count: number): Promise<void> {
  const exe = client === 'httpc' ? httpc() : undefined;
  const v = await interleaved(rounds, arms, async (arm) => {
    const e = b.endpoint(arm);
    const warmup = String(Math.ceil(count / 4));
    const argv = exe
      ? [exe, e.host, String(e.http), '/bench', String(count), mode, warmup]
      : [process.execPath, nodeClient, `http://${e.host}:${e.http}/bench`, String(count), mode, warmup];
    const out = (await b.run(arm, argv, { env })).stdout.trim().split('\n').filter((l) => l.startsWith('[')).pop()!;
    return JSON.parse(out) as number[];
  });
  printLatency(`latency, ${mode === 'keepalive' ? 'keep-alive' : 'new connection per request'}, ${client} client (${count} sequential GETs × ${rounds} rounds)`, v);
}

async function rates(b: Bench): Promise<void> {
  if (only.has('wrk')) await wrkRates(b);
  if (only.has('ab')) await abRates(b);
}

async function wrkRates(b: Bench): Promise<void> {
  const wrk = await interleaved(rounds, arms, async (arm) => {
    const e = b.endpoint(arm);
    const { stdout: out } = await b.run(arm, ['wrk', '-t2', '-c20', '-d3s', `http://${e.host}:${e.http}/bench`]);
    return Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  });
  printRates(`keep-alive requests/s, wrk -t2 -c20 -d3s (${rounds} rounds)`, 'req/s', wrk);
}

async function abRates(b: Bench): Promise<void> {
  const ab = await interleaved(rounds, arms, async (arm) => {
    const e = b.endpoint(arm);
    const { stdout: out } = await b.run(arm, ['ab', '-q', '-n', '2000', '-c', '20', `http://${e.host}:${e.http}/bench`]);
    const failed = Number(/Failed requests:\s+(\d+)/.exec(out)?.[1]);
    if (failed) throw new Error(`${arm}: ab: ${failed} failed requests`);
    return Number(/Requests per second:\s+([\d.]+)/.exec(out)?.[1]);
  });
  printRates(`new-connection requests/s, ab -n2000 -c20 (${rounds} rounds)`, 'req/s', ab);
}

async function main(): Promise<void> {
  const b = await createBench();
  try {
    console.log(`Outgoing, ring 2 (pid target, one test world); load average ${loadAverage()}`);
    if (only.has('bulk')) {
      for (const mb of mbList) await bulk(b, mb, 1);
      await bulk(b, mbList[mbList.length - 1]!, 8);
    }
    if (only.has('keepalive')) {
      await latency(b, 'httpc', 'keepalive', requests);
      await latency(b, 'node', 'keepalive', requests);
    }
    if (only.has('newconn')) {
      await latency(b, 'httpc', 'close', Math.max(50, Math.floor(requests / 5)));
      await latency(b, 'node', 'close', Math.max(50, Math.floor(requests / 5)));
    }
    await rates(b);
    console.log(`load average after: ${loadAverage()}`);
  } finally {
    await b.destroy();
  }
}

main().catch((e: Error) => {
  console.error(`bench: ${e.message}`);
  process.exit(1);
});

