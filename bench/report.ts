/**
 * Interleaved rounds over the arms and the lines they print: each figure per arm (median over the
 * rounds after the first), and per-round ratios of podlink against direct and against the floor.
 */
import type { Arm } from './arms.js';
import { median, percentile, ratioSummary } from './stats.js';

/** Runs `measure` for every arm, round after round (A B C A B C …); round 0 is discarded. */
export async function interleaved<T>(rounds: number, arms: readonly Arm[], measure: (arm: Arm, round: number) => Promise<T>): Promise<Record<Arm, T[]>> {
  const out = { direct: [], floor: [], podlink: [] } as Record<Arm, T[]>;
  for (let round = 0; round <= rounds; round++) {
    for (const arm of arms) {
      const v = await measure(arm, round);
      if (round > 0) out[arm].push(v);
    }
  }
  return out;
}

const label: Record<Arm, string> = { direct: 'direct (inside pod A)', floor: 'floor (2-hop Node relay)', podlink: 'podlink' };

/** One figure per round and arm (throughput, rate): medians, then podlink/direct and podlink/floor. */
export function printRates(title: string, unit: string, v: Record<Arm, number[]>, digits = 0): void {
  console.log(title);
  for (const arm of ['direct', 'floor', 'podlink'] as const) {
    if (v[arm].length) console.log(`  ${label[arm].padEnd(28)} median ${median(v[arm]).toFixed(digits).padStart(8)} ${unit}`);
  }
  const ratio = (a: Arm, b: Arm): string => ratioSummary(v[a].map((x, i) => x / v[b][i]!));
  if (v.floor.length && v.direct.length) console.log(`  floor/direct   ${ratio('floor', 'direct')}`);
  if (v.podlink.length && v.direct.length) console.log(`  podlink/direct ${ratio('podlink', 'direct')}`);
  if (v.podlink.length && v.floor.length) console.log(`  podlink/floor  ${ratio('podlink', 'floor')}`);
}

/**
 * Latency samples (µs) per round and arm: p50/p99 over all rounds, per-round ratios against direct,
 * and the latency podlink adds over direct against what the floor adds (p50).
 */
export function printLatency(title: string, v: Record<Arm, number[][]>): void {
  console.log(title);
  for (const arm of ['direct', 'floor', 'podlink'] as const) {
    const all = v[arm].flat();
    if (all.length) console.log(`  ${label[arm].padEnd(28)} p50 ${percentile(all, 50).toFixed(0).padStart(6)} µs   p99 ${percentile(all, 99).toFixed(0).padStart(6)} µs`);
  }
  const per = (arm: Arm, p: number): number[] => v[arm].map((s) => percentile(s, p));
  const ratios = (a: number[], b: number[]): string => ratioSummary(a.map((x, i) => x / b[i]!));
  if (v.podlink.length && v.direct.length) {
    console.log(`  podlink/direct p50 ${ratios(per('podlink', 50), per('direct', 50))}, p99 ${ratios(per('podlink', 99), per('direct', 99))}`);
  }
  if (v.podlink.length && v.floor.length) {
    console.log(`  podlink/floor  p50 ${ratios(per('podlink', 50), per('floor', 50))}, p99 ${ratios(per('podlink', 99), per('floor', 99))}`);
  }
  if (v.podlink.length && v.floor.length && v.direct.length) {
    const d = per('direct', 50);
    const added = (arm: Arm): number[] => per(arm, 50).map((x, i) => x - d[i]!);
    const p = added('podlink');
    const f = added('floor');
    console.log(`  added over direct, p50: podlink ${median(p).toFixed(0)} µs, floor ${median(f).toFixed(0)} µs; podlink/floor ${ratios(p, f)}`);
  }
}
