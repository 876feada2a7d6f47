// The stratified train/val/test split of a classification set: every class is split on its own in the configured
// proportions, with a generator seeded by the seed and the class name, so the split is the same on every machine and
// does not change for one class when another class gains or loses images.
import { OcropsError } from '@ocrops/common';
import type { ClassSplitOptions } from './classify-config.js';
import type { ClassItem } from './classify-readers.js';
import { compareCodePoints } from './classify-readers.js';
import { Rng } from './rng.js';
import type { SplitName } from './shards.js';

/** 32-bit FNV-1a hash of the UTF-8 bytes of a string (stable across machines). */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

/**
 * Images of a class of n that go to val and test: round(n * share) each, at least 1 when the share is > 0,
 * leaving at least one image to train on.
 */
export function classSplitSizes(
  n: number,
  split: Pick<ClassSplitOptions, 'val' | 'test'>,
): { train: number; val: number; test: number } {
  const val = split.val > 0 ? Math.max(1, Math.round(n * split.val)) : 0;
  const test = split.test > 0 ? Math.max(1, Math.round(n * split.test)) : 0;
  return { train: n - val - test, val, test };
}

/**
 * Splits items stratified by class. Within a class the items are ordered by id, shuffled with a generator seeded by
 * `seed` and the class name, and cut into val, test and train. Each split comes back sorted by id.
 * Throws OcropsError naming the class when a class is too small to have an image in every split.
 */
export function stratifiedSplit(
  items: ClassItem[],
  split: ClassSplitOptions,
  where = 'the data set',
): Record<SplitName, ClassItem[]> {
  const byClass = new Map<string, ClassItem[]>();
  for (const it of items) {
    const list = byClass.get(it.label);
    if (list) list.push(it);
    else byClass.set(it.label, [it]);
  }
  const out: Record<SplitName, ClassItem[]> = { train: [], val: [], test: [] };
  for (const label of [...byClass.keys()].sort(compareCodePoints)) {
    const list = byClass.get(label)!.sort((a, b) => compareCodePoints(a.id, b.id));
    const sizes = classSplitSizes(list.length, split);
    if (sizes.train < 1) {
      throw new OcropsError(
        'OCROPS_DATA_CLASSES',
        `${where}: class '${label}' has ${list.length} image(s), too few for a train, val and test share`,
        {
          hint: 'add images to the class, remove it, or lower split.val / split.test',
        },
      );
    }
    new Rng((split.seed ^ fnv1a(label)) >>> 0).shuffle(list);
    out.val.push(...list.slice(0, sizes.val));
    out.test.push(...list.slice(sizes.val, sizes.val + sizes.test));
    out.train.push(...list.slice(sizes.val + sizes.test));
  }
  for (const s of ['train', 'val', 'test'] as const) out[s].sort((a, b) => compareCodePoints(a.id, b.id));
  return out;
}
