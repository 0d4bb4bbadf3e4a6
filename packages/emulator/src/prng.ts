import type { Duration } from './types.js';

/** A seeded PRNG: deterministic runs must replay faults and durations exactly. */
export interface Prng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  /** Resolves a fixed or ranged duration to milliseconds. */
  duration(value: Duration | undefined, fallback: number): number;
}

/** mulberry32: tiny, fast and good enough for test scheduling (not for cryptography). */
export function createPrng(seed: number): Prng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  const duration = (value: Duration | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    if (typeof value === 'number') return Math.max(0, value);
    const [min, max] = value;
    return Math.max(0, min + next() * (max - min));
  };
  return { next, int, duration };
}
