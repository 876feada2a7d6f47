// Repeat-factor sampling of training items with rare labels (as in LVIS, Gupta et al. 2019): an item that carries a
// label seen in a share f < t of the items is drawn about sqrt(t / f) times per epoch, so a province character on 1%
// of the licence plates, or a class with few images, is seen more often without changing the loss.
import { OcropsError } from '@ocrops/common';
import { Rng } from './rng.js';

/**
 * Repeat factor of each item: max(1, max over the item's labels l of sqrt(threshold / f(l))), where f(l) is the share
 * of items that carry l (a text line's labels are its distinct characters; an image's, its class). A threshold of 0
 * gives 1 everywhere.
 */
export function repeatFactors(items: readonly Iterable<string>[], threshold: number): Float64Array {
  if (!(threshold >= 0 && threshold <= 1)) {
    throw new OcropsError('OCROPS_DATA_BATCH', `the repeat threshold must be within [0, 1], got ${threshold}`);
  }
  const out = new Float64Array(items.length).fill(1);
  if (threshold === 0 || items.length === 0) return out;
  const sets = items.map((labels) => new Set(labels));
  const carrying = new Map<string, number>();
  for (const set of sets) for (const l of set) carrying.set(l, (carrying.get(l) ?? 0) + 1);
  sets.forEach((set, i) => {
    for (const l of set) out[i] = Math.max(out[i], Math.sqrt((threshold * items.length) / carrying.get(l)!));
  });
  return out;
}

function sumOf(repeats: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < repeats.length; i++) sum += repeats[i];
  return sum;
}

/** Positions in one epoch drawn with these repeat factors: their sum rounded up (the item count when all are 1). */
export function repeatedLength(repeats: ArrayLike<number>): number {
  // a sum such as 2.0000000001 from rounding counts as 2
  return Math.ceil(sumOf(repeats) - 1e-9);
}

/**
 * One epoch's order of item indices, by systematic sampling: the items are shuffled, laid end to end with lengths r_i,
 * and hit by L = `repeatedLength` evenly spaced points from a random start; the result is shuffled again. Item i
 * appears floor(x) or ceil(x) times for x = r_i L / sum(r) (r_i stretched to fill the rounded-up epoch), at least once
 * and x times on average. L is the same in every epoch, so steps per epoch (and lr schedules) stay fixed.
 */
export function repeatedOrder(repeats: ArrayLike<number>, rng: Rng): number[] {
  const n = repeats.length;
  for (let i = 0; i < n; i++) {
    if (!(repeats[i] >= 1))
      throw new OcropsError('OCROPS_DATA_BATCH', `repeat factors must be >= 1, got ${repeats[i]} for item ${i}`);
  }
  const items = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  const total = repeatedLength(repeats);
  if (total === 0) return [];
  const sum = sumOf(repeats);
  // the spacing is <= 1 <= every item's length, so each item is hit at least once
  const step = sum / total;
  const order: number[] = [];
  const start = rng.next() * step;
  let end = 0;
  for (const i of items) {
    end += repeats[i];
    while (order.length < total && start + order.length * step < end) order.push(i);
  }
  // rounding can leave the last point just past the end: it belongs to the last item
  while (order.length < total) order.push(items[n - 1]);
  return rng.shuffle(order);
}
