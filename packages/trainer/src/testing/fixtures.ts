// Helpers for the trainer's tests.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Writes `<dir>/d/data.yaml`: 60 generated address lines (48 train, 6 val, 6 test) at height 32, no augmentation,
 * prepared into `<dir>/d/prepared`, a data set small enough for a run of a few steps. Returns its path.
 */
export function writeTinyDataConfig(dir: string): string {
  mkdirSync(join(dir, 'd'), { recursive: true });
  const data = join(dir, 'd/data.yaml');
  writeFileSync(
    data,
    [
      'name: tiny',
      'source: { format: synthetic }',
      'charset: vietnamese',
      'image: { height: 32, channels: 1, max_width: 160 }',
      'split: { train: 0.8, val: 0.1, test: 0.1, seed: 1 }',
      'synthetic: { count: 60, seed: 3 }',
      'augment: false',
      `output: ${join(dir, 'd/prepared')}`,
      '',
    ].join('\n'),
  );
  return data;
}

/** The model section of a tiny run: `vgg` at inner_dim 16 with one BiGRU of 8 (a step takes milliseconds). */
export const TINY_MODEL = Object.freeze({
  arch: 'vgg',
  height: 32,
  channels: 1,
  inner_dim: 16,
  embed_dim: 16,
  rnn: Object.freeze({ type: 'gru', hidden: 8, layers: 1 }),
});
