// Seeded randomness for reproducible (and resumable) training.
//
// TensorFlow.js draws the noise of its random ops (dropout masks, weight initialisers) from `Math.random` when no seed
// is given. The trainer replaces `Math.random` with a generator seeded from (run seed, step) for the duration of each
// synchronous training step, so a resumed run draws exactly what the uninterrupted run drew at the same step.
import { mulberry32 } from '@ocrops/common';

/** 32-bit FNV-1a style mix of numbers/strings into one seed. */
export function hashSeed(...parts: Array<number | string>): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    const s = String(p);
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    h ^= 0x7c;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export { mulberry32 };

/**
 * Runs a synchronous function with `Math.random` replaced by a generator seeded with `seed`, then restores it.
 * Only synchronous work may run inside (no awaits), so nothing else sees the seeded generator.
 */
export function withSeededRandom<T>(seed: number, fn: () => T): T {
  const original = Math.random;
  Math.random = mulberry32(seed);
  try {
    return fn();
  } finally {
    Math.random = original;
  }
}
