// A series of bursts, each on sync dirs emptied of the ones before it, and its median burst.
import { medianItem, round } from "./stats";

export interface BurstSeries<T> {
  /** the median burst by time, whole (its time, CPU and split together) */
  readonly chosen: T;
  /** every burst's seconds, in the order they ran */
  readonly allSeconds: number[];
}

/**
 * `count` bursts, `empty` before each one, so that no burst meets the files and the
 * writeback of those before it. Left to accumulate, a series' bursts tended to get slower
 * one by one: relay-floor 0.96 / 1.05 / 1.08 / 1.20 / 1.33 s (2026-12-01 15:20) and
 * 0.91 / 1.26 / 2.08 s (17:56), its first burst the fastest in 10 of the 12 runs from
 * 2026-11-30 17:12 to 2026-12-01 17:56; emptied before each burst (18:51), 1.02 / 1.23 / 1.03 s.
 */
export async function burstSeries<T>(
  count: number,
  empty: () => Promise<void>,
  one: (k: number) => Promise<T>,
  seconds: (burst: T) => number,
): Promise<BurstSeries<T>> {
  const all: T[] = [];
  for (let k = 1; k <= count; k++) {
    await empty();
    all.push(await one(k));
  }
  return { chosen: medianItem(all, seconds), allSeconds: all.map((b) => round(seconds(b), 3)) };
}
