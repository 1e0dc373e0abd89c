/**
 * Benchmark: what the layer costs on the local path (every call of the workload stays local: system
 * paths, untracked descriptors). Arms in the same run: the workload with the layer preloaded and active
 * vs without it.
 *   - instructions (callgrind, deterministic): the extra instructions per loop iteration, from the
 *     difference between two loop counts so start-up cancels out;
 *   - syscalls (strace -c): must be identical, the layer adds none on the local path;
 *   - wall clock: interleaved runs, median ratio.
 * The workload (layer/test/programs/localwork.c) does per iteration: open+fstat+read+close, stat,
 * access, syscall(statx), syscall(close), opendir+readdir…+closedir of /proc/self, fopen+fclose.
 *
 *   node dist/bench/layer-overhead.js
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { layerLibrary, packageRoot } from '../common/paths.js';
import { median, ratioSummary } from './stats.js';

const program = path.join(packageRoot, 'layer', 'build', 'test', 'prog_localwork');
const withLayer = { ...process.env, LD_PRELOAD: layerLibrary, PODLINK_SOCK: '/nonexistent/podlink.sock' };
const without = { ...process.env, LD_PRELOAD: '', PODLINK_SOCK: '' };

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): string {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stderr;
}

function instructions(n: number, env: NodeJS.ProcessEnv): number {
  const err = run('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', program, String(n)], env);
  const m = /Collected : (\d+)/.exec(err);
  if (!m) throw new Error(`no instruction count in callgrind output:\n${err}`);
  return Number(m[1]);
}

function syscalls(n: number, env: NodeJS.ProcessEnv): Map<string, number> {
  const out = path.join(os.tmpdir(), `podlink-strace-${process.pid}.txt`);
  // -E gives the variables to the traced program only: strace itself must not run under the layer.
  const tracee = ['LD_PRELOAD', 'PODLINK_SOCK'].flatMap((k) => ['-E', `${k}=${env[k] ?? ''}`]);
  run('strace', ['-f', '-c', '-o', out, ...tracee, program, String(n)], without);
  const counts = new Map<string, number>();
  for (const line of fs.readFileSync(out, 'utf8').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 5 && /^\d/.test(f[0]!) && f[f.length - 1] !== 'total') counts.set(f[f.length - 1]!, Number(f[3]));
  }
  fs.rmSync(out, { force: true });
  return counts;
}

function wall(n: number, env: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  run(program, [String(n)], env);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** Extra instructions per call of one kind, from two loop lengths of prog_localcalls. */
const calls = path.join(packageRoot, 'layer', 'build', 'test', 'prog_localcalls');
function perCall(call: string, env: NodeJS.ProcessEnv): number {
  const ir = (n: number): number => {
    const err = run('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', calls, call, String(n)], env);
    return Number(/Collected : (\d+)/.exec(err)?.[1]);
  };
  return (ir(4000) - ir(2000)) / 2000;
}

const lo = 2000;
const hi = 4000;
const perIter = (env: NodeJS.ProcessEnv): number => (instructions(hi, env) - instructions(lo, env)) / (hi - lo);
const plain = perIter(without);
const layered = perIter(withLayer);
console.log('Layer overhead on the local path (layer/test/programs/localwork.c; ~11 hooked calls + a readdir per iteration)');
console.log(`  instructions per iteration   without ${plain.toFixed(0)}, with the layer ${layered.toFixed(0)}: +${(layered - plain).toFixed(0)} (${(layered / plain).toFixed(3)}×)`);

// The loop's syscalls (count at hi minus count at lo): start-up differs, the layer reads its config once.
const loopCalls = (env: NodeJS.ProcessEnv): Map<string, number> => {
  const a = syscalls(lo, env);
  const b = syscalls(hi, env);
  return new Map([...b].map(([k, v]) => [k, v - (a.get(k) ?? 0)]));
};
const sysPlain = loopCalls(without);
const sysLayer = loopCalls(withLayer);
const names = [...new Set([...sysPlain.keys(), ...sysLayer.keys()])];
const differing = names.filter((k) => (sysPlain.get(k) ?? 0) !== (sysLayer.get(k) ?? 0));
const total = [...sysPlain.values()].reduce((x, y) => x + y, 0) / (hi - lo);
console.log(
  `  syscalls per iteration       ${differing.length === 0 ? `${total.toFixed(0)}, identical with and without the layer` : `DIFFER: ${differing.map((k) => `${k} ${sysPlain.get(k) ?? 0}→${sysLayer.get(k) ?? 0}`).join(', ')}`}`,
);

console.log('  extra instructions per call (callgrind; "+close" calls include the close hook, about 8):');
const kinds = ['open', 'openat', 'open_rel', 'stat', 'lstat', 'statx', 'access', 'readlink', 'fopen', 'close', 'fstat', 'pread', 'connect'];
const cells = kinds.map((k) => `${k}${['open', 'openat', 'open_rel'].includes(k) ? '+close' : k === 'fopen' ? '+fclose' : k === 'connect' ? '+2 close+accept' : ''} ${(perCall(k, withLayer) - perCall(k, without)).toFixed(0)}`);
for (let i = 0; i < cells.length; i += 5) console.log(`    ${cells.slice(i, i + 5).join(', ')}`);

const ratios: number[] = [];
const n = 20000;
for (let round = 0; round <= 6; round++) {
  const a = wall(n, without);
  const b = wall(n, withLayer);
  if (round > 0) ratios.push(b / a);
}
console.log(`  wall clock, ${n} iterations  with/without: ${ratioSummary(ratios)}; median ${median(ratios).toFixed(3)}`);
