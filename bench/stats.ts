/** Summaries shared by the benchmarks. */

export interface TimingSummary {
  iterations: number;
  median: number;
  p95: number;
  min: number;
}

/** Median, p95 and min of timed runs (nearest-rank quantiles); NaN when there are none. */
export function summariseTimes(times: readonly number[]): TimingSummary {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { iterations: times.length, median: at(0.5), p95: at(0.95), min: sorted[0] ?? Number.NaN };
}

/** The median of a few figures (rounds of a load run): the mean of the middle two when even. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  if (s.length === 0) return Number.NaN;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
