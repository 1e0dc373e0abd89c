/**
 * Benchmarks on the real test cluster (npm run cluster:up), everything run from the laptop netns,
 * which reaches only the API server, each against a baseline measured in the same run, arms
 * interleaved, the first round discarded:
 *
 *   start    `podlink exec -t deployment/service-a -- true` until the user's process runs (its
 *            --output json `running` event) vs `kubectl run` of the same agent image until Ready
 *   latency  sequential GETs laptop → service-b: through podlink (targeting service-a, by the
 *            service's name) vs through `kubectl port-forward` to service-b's pod; keep-alive and a
 *            new connection per request, p50/p99
 *   bulk     64 and 512 MiB downloads from service-b's pod, the same two arms (curl), each round a
 *            fresh session / port-forward downloading twice: the first (cold) and second (warm) compared
 *
 *   node dist/bench/cluster.js [--rounds 5] [--requests 400] [--mb 64,512] [--only start,latency,bulk]
 * With PODLINK_AGENT_IMAGE set, podlink runs that agent image (imported with
 * `PODLINK_AGENT_IMAGE=… bash scripts/agent-image.sh --import`) instead of the release's default:
 * the cluster is shared, and another worktree's agent must not be replaced under it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultAgentImage } from '../agent/image.js';
import { packageRoot } from '../common/paths.js';
import { type ClusterEnv, clusterEnv, inLaptop, kubectl, kubectlArgv, podOf, run } from '../test/cluster/cluster.js';
import { podlinkArgv } from '../test/cluster/podlink.js';
import { median, percentile, ratioSummary } from './stats.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const rounds = arg('rounds', 5);
const requests = arg('requests', 400);
const mbList = (process.argv.includes('--mb') ? process.argv[process.argv.indexOf('--mb') + 1]! : '64,512').split(',').map(Number);
const only = new Set((process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1]! : 'start,latency,bulk').split(','));
if (process.env['PODLINK_AGENT_IMAGE']) {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'podlink-bench-')), 'podlink.json');
  fs.writeFileSync(file, JSON.stringify({ agent: { image: process.env['PODLINK_AGENT_IMAGE'], image_pull_policy: 'Never' } }));
  process.env['PODLINK_CONFIG_FILE'] = file;
}
const client = path.join(packageRoot, 'bench', 'http-client.mjs');

async function laptop(env: ClusterEnv, argv: string[], timeoutMs = 600_000): Promise<string> {
  const [cmd, args] = inLaptop(env, argv);
  const r = await run(cmd, args, { cwd: packageRoot, timeoutMs });
  if (r.code !== 0) throw new Error(`${argv.slice(0, 4).join(' ')} … failed (${r.code}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return `${r.stdout}\n${r.stderr}`;
}

/** `kubectl port-forward pod/NAME :8080` in the laptop netns; resolves with the local port. */
function portForward(env: ClusterEnv, pod: string): Promise<{ child: ChildProcess; port: number }> {
  const [cmd, args] = inLaptop(env, [...kubectlArgv(env), 'port-forward', `pod/${pod}`, ':8080']);
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.on('exit', (code) => reject(new Error(`kubectl port-forward exited ${code}: ${out}`)));
  });
}

async function startTimes(env: ClusterEnv): Promise<void> {
  const podlink: number[] = [];
  const kubectlRun: number[] = [];
  for (let round = 0; round <= rounds; round++) {
    const out = await laptop(env, podlinkArgv(env, ['exec', '--output', 'json', '-t', 'deployment/service-a', '--', 'true']));
    const running = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).find((e) => e.event === 'running');
    if (!running) throw new Error(`no running event in: ${out}`);
    const name = `bench-run-${process.pid}-${round}`;
    const t0 = Date.now();
    await laptop(env, [...kubectlArgv(env), 'run', name, `--image=${defaultAgentImage()}`, '--image-pull-policy=IfNotPresent', '--restart=Never',
      '--env=PODLINK_AGENT_TOKEN=bench', '--', '--listen', '7700', '--grace', '30']);
    await laptop(env, [...kubectlArgv(env), 'wait', '--for=condition=Ready', `pod/${name}`, '--timeout=120s']);
    const t1 = Date.now();
    await laptop(env, [...kubectlArgv(env), 'delete', 'pod', name, '--wait=false']);
    if (round === 0) continue;
    podlink.push(running.ms);
    kubectlRun.push(t1 - t0);
  }
  const p = median(podlink);
  const k = median(kubectlRun);
  console.log(`session start (${rounds} rounds, interleaved)`);
  console.log(`  kubectl run of the agent image → Ready      median ${k} ms`);
  console.log(`  podlink exec → user process running          median ${p} ms`);
  console.log(`  ratio podlink/kubectl-run: ${(p / k).toFixed(2)}× (target ≤ 1.2× + 0.5 s = ${Math.round(1.2 * k + 500)} ms)`);
}

async function latency(env: ClusterEnv, fwdPort: number, mode: 'keepalive' | 'close', count: number): Promise<void> {
  const warmup = String(Math.ceil(count / 4));
  const arms = {
    'port-forward': [...[process.execPath, client, `http://127.0.0.1:${fwdPort}/healthz`, String(count), mode, warmup]],
    podlink: podlinkArgv(env, ['exec', '-q', '-t', 'deployment/service-a', '--', process.execPath, client, 'http://service-b:8080/healthz', String(count), mode, warmup]),
  };
  const all = { 'port-forward': [] as number[], podlink: [] as number[] };
  const ratios = { p50: [] as number[], p99: [] as number[] };
  for (let round = 0; round <= rounds; round++) {
    const samples = async (argv: string[]): Promise<number[]> => JSON.parse((await laptop(env, argv)).trim().split('\n').filter((l) => l.startsWith('[')).pop()!);
    const f = await samples(arms['port-forward']);
    const p = await samples(arms.podlink);
    if (round === 0) continue;
    all['port-forward'].push(...f);
    all.podlink.push(...p);
    ratios.p50.push(percentile(p, 50) / percentile(f, 50));
    ratios.p99.push(percentile(p, 99) / percentile(f, 99));
  }
  const line = (name: string, s: number[]): string => `  ${name.padEnd(36)} p50 ${percentile(s, 50).toFixed(0).padStart(6)} µs   p99 ${percentile(s, 99).toFixed(0).padStart(6)} µs`;
  console.log(`HTTP latency, ${mode === 'keepalive' ? 'keep-alive' : 'new connection per request'} (${count} GETs × ${rounds} rounds)`);
  console.log(line('kubectl port-forward to the pod', all['port-forward']));
  console.log(line('podlink (service-b by name)', all.podlink));
  console.log(`  ratio podlink/port-forward: p50 ${ratioSummary(ratios.p50)}, p99 ${ratioSummary(ratios.p99)} (target ≤ 1.3×)`);
}

/**
 * Bulk: each round starts both tools afresh (a `podlink exec` session; a `kubectl port-forward`) and
 * downloads twice through it: the first download (cold: a new session or forward, its code not yet
 * warm) and the second (warm) are compared separately.
 */
async function bulk(env: ClusterEnv, pod: string, mb: number): Promise<void> {
  const curl = `curl -sS -o /dev/null -w '%{speed_download}\\n'`;
  const twice = (url: string): string => `${curl} '${url}' && ${curl} '${url}'`;
  const speeds = (out: string): number[] => out.trim().split('\n').filter((l) => /^[\d.]+$/.test(l)).map((l) => Number(l) / 1e6);
  const rates = { cold: { 'port-forward': [] as number[], podlink: [] as number[] }, warm: { 'port-forward': [] as number[], podlink: [] as number[] } };
  const ratios = { cold: [] as number[], warm: [] as number[] };
  for (let round = 0; round <= rounds; round++) {
    const fwd = await portForward(env, pod);
    let f: number[];
    try {
      f = speeds(await laptop(env, ['sh', '-c', twice(`http://127.0.0.1:${fwd.port}/blob?mb=${mb}`)]));
    } finally {
      fwd.child.kill('SIGKILL');
    }
    const p = speeds(await laptop(env, podlinkArgv(env, ['exec', '-q', '-t', 'deployment/service-a', '--', 'sh', '-c', twice(`http://service-b:8080/blob?mb=${mb}`)])));
    if (f.length !== 2 || p.length !== 2) throw new Error(`bulk: expected two speeds from each arm, got port-forward ${f}, podlink ${p}`);
    if (round === 0) continue;
    (['cold', 'warm'] as const).forEach((k, i) => {
      rates[k]['port-forward'].push(f[i]!);
      rates[k].podlink.push(p[i]!);
      ratios[k].push(p[i]! / f[i]!);
    });
  }
  console.log(`bulk download, ${mb} MiB from service-b's pod (${rounds} rounds; each a fresh session / port-forward, downloading twice)`);
  for (const k of ['cold', 'warm'] as const) {
    console.log(`  ${k === 'cold' ? 'first download (cold)' : 'second download (warm)'}: port-forward median ${median(rates[k]['port-forward']).toFixed(0)} MB/s, podlink median ${median(rates[k].podlink).toFixed(0)} MB/s`);
    console.log(`    ratio podlink/port-forward: ${ratioSummary(ratios[k])} (target ≥ 0.8×)`);
  }
}

async function main(): Promise<void> {
  const env = clusterEnv();
  console.log(`On the test cluster, from the laptop netns (only the API server reachable); load average ${fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  if (only.has('start')) await startTimes(env);
  const pod = (await podOf(env, 'service-b')).name;
  const fwd = await portForward(env, pod);
  try {
    if (only.has('latency')) {
      await latency(env, fwd.port, 'keepalive', requests);
      await latency(env, fwd.port, 'close', Math.max(50, Math.floor(requests / 4)));
    }
    if (only.has('bulk')) for (const mb of mbList) await bulk(env, pod, mb);
  } finally {
    fwd.child.kill('SIGKILL');
  }
  await kubectl(env, ['delete', 'pods', '-l', 'run', '--ignore-not-found', '--wait=false']).catch(() => undefined);
}

main().catch((e: Error) => {
  console.error(`bench: ${e.message}`);
  process.exit(1);
});
