// Seeded randomness for the randomized suites: a run prints its seed, and LSC_SEED=<seed>
// replays it exactly.
import { randomBytes } from "crypto";

/** LSC_SEED when set (a whole number), else a fresh random one. */
export function seedFromEnv(): number {
  const raw = process.env.LSC_SEED;
  if (raw === undefined || raw === "") return randomBytes(4).readUInt32BE(0);
  const seed = Number(raw);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw new Error(`LSC_SEED must be a whole number from 0 to 4294967295; got "${raw}"`);
  return seed;
}

/** mulberry32: small, fast, and good enough to pick operations and tricks; [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
