/** Small statistics for benchmarks: percentiles, medians and ratio summaries. */

export function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

/** "1.83× (rounds 1.71–1.95)": the median of per-round ratios and their range. */
export function ratioSummary(ratios: number[]): string {
  return `${median(ratios).toFixed(2)}× (rounds ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`;
}
