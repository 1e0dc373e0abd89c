/**
 * Many connections: one process (node, many-client.ts) opens 1,000 TCP connections to pod B's echo
 * server through the relay, echoes 1 KiB on each and holds them open. The resident memory of the
 * relay's two processes is read before and after: podlink's intproxy and agent against the floor's
 * near and far ends (arms.ts), interleaved, the first round discarded.
 *
 *   node dist/bench/many.js [--rounds 3] [--count 1000]
 */
import path from 'node:path';
import { once } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import { packageRoot } from '../common/paths.js';
import { cmdline, createBench, isRelay, loadAverage, processTree, readyLine, rssKiB, type Arm, type Bench } from './arms.js';
import { interleaved } from './report.js';
import { median } from './stats.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const rounds = arg('rounds', 3);
const count = arg('count', 1000);
const client = path.join(packageRoot, 'dist', 'bench', 'many-client.js');

/** The next stdout line of a child that parses as JSON and has `key`. */
function line(child: ChildProcess, key: string): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: string): void => {
      out += d;
      const hit = out.split('\n').find((l) => l.startsWith('{') && l.includes(`"${key}"`));
      if (hit) {
        child.stdout!.off('data', onData);
        resolve(JSON.parse(hit));
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the client exited (${code}) before "${key}"`)));
  });
}

type Sample = Record<string, number> & { ms: number };

async function measure(b: Bench, arm: Arm): Promise<Sample> {
  const floor = arm === 'floor' ? await b.startFloor() : undefined;
  try {
    const e = b.endpoint(arm);
    const child = b.spawn(arm, [process.execPath, client, e.host, String(e.echo), String(count)]);
    child.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
    await readyLine(child, 'many-client');
    const relays = [child.pid!, ...(floor ? [floor.pid!] : [])].flatMap(processTree).filter((p) => isRelay(cmdline(p)));
    const name = (pid: number): string => {
      const c = cmdline(pid);
      return c.includes('intproxy') ? 'intproxy' : c.includes('agent') ? 'agent' : c.includes('\0near\0') ? 'near' : 'far';
    };
    const before = new Map(relays.map((p) => [p, rssKiB(p)]));
    child.stdin!.write('go\n');
    const opened = await line(child, 'open');
    await new Promise((r) => setTimeout(r, Number(process.env['MANY_SETTLE_MS'] ?? 500)));
    const out: Sample = { ms: opened['ms']! };
    for (const p of relays) out[name(p)] = ((rssKiB(p) - before.get(p)!) * 1024) / count;
    child.stdin!.write('close\n');
    await once(child, 'exit');
    return out;
  } finally {
    floor?.kill();
  }
}

async function main(): Promise<void> {
  const b = await createBench();
  try {
    console.log(`Many connections, ring 2; load average ${loadAverage()}`);
    const v = await interleaved(rounds, ['floor', 'podlink'], (arm) => measure(b, arm));
    const m = (arm: Arm, k: string): string => `${(median(v[arm].map((s) => s[k]!)) / 1024).toFixed(1)} KiB`;
    console.log(`${count} connections held open from one process, 1 KiB echoed on each (${rounds} rounds)`);
    console.log(`  resident memory per connection: floor near ${m('floor', 'near')}, far ${m('floor', 'far')}; podlink intproxy ${m('podlink', 'intproxy')}, agent ${m('podlink', 'agent')}`);
    console.log(`  time to open them all: floor ${median(v.floor.map((s) => s.ms))} ms, podlink ${median(v.podlink.map((s) => s.ms))} ms`);
  } finally {
    await b.destroy();
  }
}

main().catch((e: Error) => {
  console.error(`bench: ${e.message}`);
  process.exit(1);
});
