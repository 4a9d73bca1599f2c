// Pure statistics over latency samples. Percentiles are nearest-rank (a value that was
// actually observed): p95 of 30 samples is the 29th smallest.

export interface Summary {
  readonly samples: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly maxMs: number;
  readonly minMs: number;
  readonly meanMs: number;
}

/** Nearest-rank percentile of already sorted values (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    samples: sorted.length,
    p50Ms: percentile(sorted, 50),
    p95Ms: percentile(sorted, 95),
    maxMs: sorted.length ? sorted[sorted.length - 1] : Number.NaN,
    minMs: sorted.length ? sorted[0] : Number.NaN,
    meanMs: sorted.length ? sum / sorted.length : Number.NaN,
  };
}

/** Median of values that may be missing (undefined entries are ignored). */
export function median(values: ReadonlyArray<number | undefined>): number | undefined {
  const present = values.filter((v): v is number => v !== undefined && Number.isFinite(v));
  if (present.length === 0) return undefined;
  return percentile(
    present.sort((a, b) => a - b),
    50,
  );
}

export function round(value: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/**
 * The item whose `by` is the median (for an even count, the upper of the two middle ones):
 * a burst series reports one whole burst — its time, CPU and split together — not a
 * median of each figure taken from different bursts.
 */
export function medianItem<T>(items: readonly T[], by: (item: T) => number): T {
  if (items.length === 0) throw new Error("medianItem of nothing");
  return [...items].sort((x, y) => by(x) - by(y))[Math.floor(items.length / 2)];
}
