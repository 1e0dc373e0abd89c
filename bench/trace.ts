/**
 * Sums up a per-hop trace (link/trace.ts): run podlink with PODLINK_TRACE=DIR, then
 *
 *   node dist/bench/trace.js DIR
 *
 * prints, per process and event, how many there were and how many bytes each moved (median, mean,
 * the share that were full 64 KiB chunks), the frames per link write, how often relays paused on
 * their window; and, for request/response traffic, the median time each hop takes:
 *
 *   intproxy sock-in → intproxy frame-out → agent link-in → agent sock-out      (request, laptop → target)
 *   agent sock-in → agent frame-out → intproxy link-in → intproxy sock-out      (answer, target → laptop)
 */
import fs from 'node:fs';
import path from 'node:path';
import { median } from './stats.js';

interface Ev {
  t: number;
  part: string;
  hop: string;
  event: string;
  conn: number;
  bytes: number;
  frames: number;
}

function load(dir: string): Ev[] {
  const out: Ev[] = [];
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.trace'))) {
    for (const line of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      const [t, part, hop, event, conn, bytes, frames] = line.split(' ');
      if (!frames) continue;
      out.push({ t: Number(BigInt(t!) / 1000n), part: part!, hop: hop!, event: event!, conn: Number(conn), bytes: Number(bytes), frames: Number(frames) });
    }
  }
  return out.sort((a, b) => a.t - b.t);
}

function summary(evs: Ev[]): void {
  const groups = new Map<string, Ev[]>();
  const cpu = new Map<string, number>();
  for (const e of evs) {
    if (e.event === 'cpu') {
      cpu.set(e.part, (cpu.get(e.part) ?? 0) + (e.bytes + e.frames) / 1e6);
      continue;
    }
    const k = `${e.part} ${e.hop === 'tcp' ? '' : `${e.hop} `}${e.event}`;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(e);
  }
  console.log('per process and event: count, bytes per event (median / mean), full 64 KiB events, frames per write');
  for (const [k, g] of [...groups].sort()) {
    const bytes = g.map((e) => e.bytes);
    const total = bytes.reduce((a, b) => a + b, 0);
    const full = g.filter((e) => e.bytes >= 65536).length;
    const frames = g.some((e) => e.frames) ? `  frames/write ${(g.reduce((a, e) => a + e.frames, 0) / g.length).toFixed(2)}` : '';
    console.log(`  ${k.padEnd(34)} ${String(g.length).padStart(8)}  ${String(median(bytes)).padStart(7)} / ${(total / g.length).toFixed(0).padStart(7)} B  ${((100 * full) / g.length).toFixed(0).padStart(3)}% full${frames}`);
  }
  // CPU per relayed byte: every byte a relay wrote to a socket, in either direction.
  const relayed = evs.filter((e) => e.part === 'agent' && (e.event === 'sock-in' || e.event === 'sock-out')).reduce((a, e) => a + e.bytes, 0);
  for (const [part, s] of cpu) console.log(`  ${part} CPU ${s.toFixed(2)} s in all${relayed ? `, ${((s * 1e9) / relayed).toFixed(2)} ns per relayed byte` : ''}`);
}

/** Median hop times of request/response exchanges on one connection at a time (keep-alive latency runs). */
function hops(evs: Ev[]): void {
  const seq: [string, string][] = [
    ['intproxy', 'sock-in'], ['intproxy', 'frame-out'], ['intproxy', 'link-write'], ['agent', 'link-in'], ['agent', 'sock-out'],
    ['agent', 'sock-in'], ['agent', 'frame-out'], ['agent', 'link-write'], ['intproxy', 'link-in'], ['intproxy', 'sock-out'],
  ];
  const deltas: number[][] = seq.map(() => []);
  let at = -1;
  let last = 0;
  for (const e of evs) {
    if (e.event === 'window-out' || e.event === 'window-in' || (e.event === 'frame-out' && e.conn === 0)) continue;
    const next = seq[at + 1];
    if (next && e.part === next[0] && e.event === next[1]) {
      if (at >= 0) deltas[at + 1]!.push(e.t - last);
      at++;
      last = e.t;
      if (at === seq.length - 1) at = -1;
    } else if (e.part === 'intproxy' && e.event === 'sock-in') {
      at = 0;
      last = e.t;
    }
  }
  const n = deltas[seq.length - 1]!.length;
  if (n < 10) return;
  console.log(`hop times, median over ${n} request/response exchanges (µs)`);
  for (let i = 1; i < seq.length; i++) console.log(`  ${`${seq[i - 1]!.join(' ')} → ${seq[i]!.join(' ')}`.padEnd(50)} ${median(deltas[i]!).toFixed(0).padStart(6)}`);
}

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node dist/bench/trace.js DIR');
  process.exit(2);
}
const evs = load(dir);
summary(evs);
hops(evs);
