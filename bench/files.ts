/**
 * A large file that exists only in the target, read to its end (readfile.c: time to the first byte,
 * to the last, and a checksum). Pod A gets a tmpfs of its own holding a 200 MiB file; arms, interleaved,
 * the first round discarded:
 *
 *   inside    the reader inside the target (its mount namespace), as `cat` there would read it
 *   podlink   the reader on the laptop under podlink, opening close-on-exec as node, python, Go and
 *             Rust do: the open returns after the first chunk and the rest streams in behind the reads
 *   whole     the same, opened without O_CLOEXEC: the layer fetches the whole file before the open
 *             returns (what every remote open did before streaming)
 *
 *   node dist/bench/files.js [--rounds 5] [--mb 200]
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../common/paths.js';
import { createWorld } from '../test/helpers/world.js';
import { BLOCK, blobBlock } from './blob.js';
import { loadAverage } from './arms.js';
import { median, ratioSummary } from './stats.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const rounds = arg('rounds', 5);
const mb = arg('mb', 200);
const DIR = '/mnt/podlink-bench';
const FILE = `${DIR}/big.bin`;

interface Read {
  open_us: number;
  first_us: number;
  end_us: number;
  bytes: number;
  sum: string;
}

async function main(): Promise<void> {
  const reader = path.join(packageRoot, 'dist', 'bench', 'readfile');
  execFileSync('gcc', ['-O2', '-o', reader, path.join(packageRoot, 'bench', 'readfile.c')]);
  const world = await createWorld();
  try {
    const pid = world.podA.pid;
    // A tmpfs in the target's own mount namespace: the file is nowhere else.
    execFileSync('nsenter', [`--target=${pid}`, '--mount', '--', 'sh', '-c', `mkdir -p ${DIR} && mount -t tmpfs -o size=${mb + 64}m plbench ${DIR}`]);
    const fd = fs.openSync(`/proc/${pid}/root${FILE}`, 'w');
    for (let i = 0; i < mb; i++) fs.writeSync(fd, blobBlock());
    fs.closeSync(fd);
    if (fs.existsSync(FILE)) throw new Error(`${FILE} exists on the laptop too`);
    console.log(`A ${mb} MiB file only in the target, read to its end; load average ${loadAverage()}`);
    const cli = path.join(packageRoot, 'bin', 'podlink.js');
    const arms = {
      inside: ['nsenter', [`--target=${pid}`, '--mount', '--', reader, FILE]],
      podlink: [process.execPath, [cli, 'exec', '-q', '-t', `pid/${pid}`, '--', reader, FILE, 'cloexec']],
      whole: [process.execPath, [cli, 'exec', '-q', '-t', `pid/${pid}`, '--', reader, FILE, 'inherit']],
    } as const;
    const got = { inside: [] as Read[], podlink: [] as Read[], whole: [] as Read[] };
    for (let round = 0; round <= rounds; round++) {
      for (const [arm, [cmd, args]] of Object.entries(arms) as [keyof typeof arms, (typeof arms)[keyof typeof arms]][]) {
        const r = await world.runIn(arm === 'inside' ? world.podA.netns : world.laptop, cmd, [...args], { timeoutMs: 300_000 });
        if (r.code !== 0) throw new Error(`${arm} failed: ${r.stderr}`);
        const read = JSON.parse(r.stdout.trim().split('\n').pop()!) as Read;
        if (read.bytes !== mb * BLOCK) throw new Error(`${arm} read ${read.bytes} bytes of ${mb * BLOCK}`);
        if (round > 0) got[arm].push(read);
      }
    }
    const sums = new Set(Object.values(got).flat().map((r) => r.sum));
    if (sums.size !== 1) throw new Error(`the arms read different bytes: ${[...sums].join(', ')}`);
    const line = (name: string, rs: Read[]): string =>
      `  ${name.padEnd(40)} open ${(median(rs.map((r) => r.open_us)) / 1000).toFixed(1).padStart(7)} ms   first byte ${(median(rs.map((r) => r.first_us)) / 1000).toFixed(1).padStart(7)} ms   all ${(median(rs.map((r) => r.end_us)) / 1000).toFixed(0).padStart(5)} ms   ${((mb * BLOCK) / median(rs.map((r) => r.end_us))).toFixed(0).padStart(5)} MB/s`;
    console.log(line('inside the target (as cat there)', got.inside));
    console.log(line('podlink, streamed (O_CLOEXEC)', got.podlink));
    console.log(line('podlink, fetched whole (no O_CLOEXEC)', got.whole));
    const ratio = (a: Read[], b: Read[]): string => ratioSummary(a.map((r, i) => r.end_us / b[i]!.end_us));
    console.log(`  time to read it all: streamed/inside ${ratio(got.podlink, got.inside)}, whole/inside ${ratio(got.whole, got.inside)}`);
    console.log(`  the same bytes in every arm (checksum ${[...sums][0]})`);
  } finally {
    await world.destroy();
  }
}

main().catch((e: Error) => {
  console.error(`bench: ${e.message}`);
  process.exit(1);
});
