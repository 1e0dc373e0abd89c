/**
 * Benchmark (issue 18): what serving a program through the supervisor (seccomp user notification)
 * costs, against the layer (LD_PRELOAD) and against no interception. Every part runs its arms
 * interleaved in one run (A B C A B C …) and discards the first round; ratios are per round, then the
 * median.
 *   1. Per call, local path (nothing remote: the interception alone): open+close, stat, fstat (which
 *      the filter keeps in the kernel), TCP connect+close to a loopback listener — the workload
 *      (supervisor/test/callcost.c) plain, under the layer, under the supervisor.
 *   2. Per call, remote path: open+close and stat of the target's file, TCP connect+close to
 *      service-b — inside pod A directly, and from the laptop under the layer and under the supervisor.
 *   3. Go HTTP (CGO_ENABLED=0, bench/gohttp): keep-alive latency and bulk throughput (a POST the server
 *      echoes), inside pod A directly vs from the laptop through the supervisor — a Go program has no
 *      layer path — and the node client (bench/http-client.mjs) through the layer and the supervisor.
 * Needs root and Go.
 *
 *   node dist/bench/supervisor.js [--rounds 4] [--part local|remote|http]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { layerLibrary, packageRoot, supervisorBinary } from '../common/paths.js';
import { createWorld, type World } from '../test/helpers/world.js';
import { median, percentile, ratioSummary } from './stats.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const rounds = arg('rounds', 4);
const callcost = path.join(packageRoot, 'supervisor', 'build', 'test', 'callcost');
const cli = path.join(packageRoot, 'bin', 'podlink.js');
const nodeClient = path.join(packageRoot, 'bench', 'http-client.mjs');
const nodeBulk = path.join(packageRoot, 'bench', 'http-bulk.mjs');
/** --part local|remote|http: one part only. */
const part = ((): string | undefined => {
  const i = process.argv.indexOf('--part');
  return i >= 0 ? process.argv[i + 1] : undefined;
})();
const us = (ns: number): string => `${(ns / 1000).toFixed(1).padStart(7)} µs`;

/** Interleaved rounds of every arm; returns each arm's values of the counted rounds. */
async function interleave<A extends string, T = number>(arms: readonly A[], run: (arm: A) => Promise<T> | T): Promise<Record<A, T[]>> {
  const out = Object.fromEntries(arms.map((a) => [a, [] as T[]])) as Record<A, T[]>;
  for (let round = 0; round <= rounds; round++) {
    for (const a of arms) {
      const v = await run(a);
      if (round > 0) out[a].push(v);
    }
  }
  return out;
}

function ratios(a: number[], b: number[]): string {
  return ratioSummary(a.map((v, i) => v / b[i]!));
}

// ---- 1. local path -------------------------------------------------------------------------------

function localCall(arm: 'none' | 'layer' | 'supervisor', op: string, target: string, n: number): number {
  const base = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', PODLINK_SOCK: '/nonexistent/podlink.sock' };
  const [cmd, args, env] =
    arm === 'none'
      ? [callcost, [op, target, String(n)], { PATH: base.PATH }]
      : arm === 'layer'
        ? [callcost, [op, target, String(n)], { ...base, LD_PRELOAD: layerLibrary }]
        : [supervisorBinary, ['run', callcost, '--', 'callcost', op, target, String(n)], base];
  const r = spawnSync(cmd, args, { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${arm} ${op}: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { ns_per_call: number }).ns_per_call;
}

async function localPath(): Promise<void> {
  console.log('Per call, local path (the interception alone; ns per call, median of rounds)');
  const file = '/usr/lib/os-release';
  for (const [op, target, n] of [['open', file, 20000], ['stat', file, 20000], ['fstat', file, 20000], ['connect', '127.0.0.1:0', 3000]] as const) {
    const r = await interleave(['none', 'layer', 'supervisor'] as const, (a) => localCall(a, op, target, n));
    const m = { none: median(r.none), layer: median(r.layer), supervisor: median(r.supervisor) };
    console.log(
      `  ${op.padEnd(8)} none ${us(m.none)}  layer ${us(m.layer)} (${ratios(r.layer, r.none)})  supervisor ${us(m.supervisor)} (${ratios(r.supervisor, r.none)}), ${m.supervisor >= m.none ? '+' : '−'}${(Math.abs(m.supervisor - m.none) / 1000).toFixed(1)} µs a call`,
    );
  }
}

// ---- 2. remote path ------------------------------------------------------------------------------

type Arm = 'direct' | 'layer' | 'supervisor';

/** Runs cmd inside pod A (direct) or from the laptop under podlink on the given path. */
async function inWorld(world: World, arm: Arm, cmd: string[], timeoutMs = 300_000): Promise<string> {
  const r =
    arm === 'direct'
      ? await world.runIn(world.podA.netns, 'nsenter', [`--target=${world.podA.pid}`, '--net', '--mount', '--', ...cmd], { timeoutMs })
      : await world.runIn(world.laptop, 'env', [`PODLINK_EXEC_PATH=${arm}`, process.execPath, cli, 'exec', '-q', '-t', `pid/${world.podA.pid}`, '--', ...cmd], { timeoutMs });
  if (r.code !== 0) throw new Error(`${arm} ${cmd.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim().split('\n').pop()!;
}

async function remotePath(world: World): Promise<void> {
  console.log('Per call, remote path (ns per call: in pod A directly, from the laptop under the layer / the supervisor)');
  const ops = [['open', world.targetFile.path, 2000], ['stat', world.targetFile.path, 2000], ['connect', `${world.podB.ip}:80`, 300]] as const;
  for (const [op, target, n] of ops) {
    const r = await interleave(['direct', 'layer', 'supervisor'] as const, async (a: Arm) =>
      (JSON.parse(await inWorld(world, a, [callcost, op, target, String(n)])) as { ns_per_call: number }).ns_per_call,
    );
    console.log(
      `  ${op.padEnd(8)} direct ${us(median(r.direct))}  layer ${us(median(r.layer))} (${ratios(r.layer, r.direct)})  supervisor ${us(median(r.supervisor))} (${ratios(r.supervisor, r.direct)}); supervisor/layer ${ratios(r.supervisor, r.layer)}`,
    );
  }
}

// ---- 3. HTTP -------------------------------------------------------------------------------------

async function http(world: World, goClient: string): Promise<void> {
  const url = `http://${world.serviceB.short}/bench`;
  const count = 500;
  const warmup = String(count / 4);
  const arms = ['go direct', 'go supervisor', 'node direct', 'node layer', 'node supervisor'] as const;
  const runs = await interleave(arms, async (a) => {
    const [lang, arm] = a.split(' ') as ['go' | 'node', Arm];
    const cmd = lang === 'go' ? [goClient, 'latency', url, String(count), warmup] : [process.execPath, nodeClient, url, String(count), 'keepalive', warmup];
    return JSON.parse(await inWorld(world, arm, cmd)) as number[];
  });
  const p = (a: (typeof arms)[number], q: number): number[] => runs[a].map((s) => percentile(s, q));
  console.log(`HTTP keep-alive latency (${count} sequential GETs of ${url} per run; µs, median of rounds)`);
  for (const a of arms) console.log(`  ${a.padEnd(16)} p50 ${median(p(a, 50)).toFixed(0).padStart(6)}   p99 ${median(p(a, 99)).toFixed(0).padStart(6)}`);
  console.log(
    `  ratio p50: go supervisor/direct ${ratios(p('go supervisor', 50), p('go direct', 50))}; node layer/direct ${ratios(p('node layer', 50), p('node direct', 50))}; ` +
      `node supervisor/layer ${ratios(p('node supervisor', 50), p('node layer', 50))}`,
  );

  const mib = 32;
  const bulkArms = ['go direct', 'go supervisor', 'node direct', 'node layer', 'node supervisor'] as const;
  const bulk = await interleave(bulkArms, async (a) => {
    const [lang, arm] = a.split(' ') as ['go' | 'node', Arm];
    const target = `http://${world.serviceB.short}/bulk`;
    const cmd = lang === 'go' ? [goClient, 'bulk', target, String(mib)] : [process.execPath, nodeBulk, target, String(mib)];
    return (JSON.parse(await inWorld(world, arm, cmd)) as { mibPerSec: number }).mibPerSec;
  });
  console.log(`HTTP bulk (a ${mib} MiB POST echoed back; MiB/s both ways, median of rounds)`);
  console.log(`  ${bulkArms.map((a) => `${a} ${median(bulk[a]).toFixed(0)}`).join(', ')}`);
  console.log(
    `  ratio: go supervisor/direct ${ratios(bulk['go supervisor'], bulk['go direct'])}; node layer/direct ${ratios(bulk['node layer'], bulk['node direct'])}; ` +
      `node supervisor/layer ${ratios(bulk['node supervisor'], bulk['node layer'])}`,
  );
}

function buildGoClient(dir: string): string {
  const out = path.join(dir, 'gohttp');
  const go = ['/usr/local/go/bin/go', '/usr/lib/go/bin/go'].find((p) => fs.existsSync(p)) ?? 'go';
  const r = spawnSync(go, ['build', '-o', out, '.'], { cwd: path.join(packageRoot, 'bench', 'gohttp'), env: { ...process.env, CGO_ENABLED: '0', GOTOOLCHAIN: 'local' }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`go build of bench/gohttp failed: ${r.stderr ?? r.error}`);
  return out;
}

async function main(): Promise<void> {
  if (!fs.existsSync(callcost)) throw new Error(`${callcost} is missing: make -C supervisor`);
  if (!part || part === 'local') await localPath();
  if (part === 'local') return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'podlink-bench-sup-'));
  fs.chmodSync(dir, 0o755);
  const world = await createWorld();
  try {
    if (!part || part === 'remote') await remotePath(world);
    if (!part || part === 'http') await http(world, buildGoClient(dir));
  } finally {
    await world.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  console.error(`bench: ${e.message}`);
  process.exit(1);
});
