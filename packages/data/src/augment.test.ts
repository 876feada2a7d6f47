import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OcropsError } from '@ocrops/common';
import { augmentImage, defaultAugmentConfig, parseAugmentConfig, type AugmentConfig } from './augment.js';
import { Rng } from './rng.js';

/** A 24 x 60 white line with two dark vertical strokes 2 px wide. */
function line(): Float32Array {
  const h = 24;
  const w = 60;
  const img = new Float32Array(h * w).fill(1);
  for (let y = 4; y < 20; y++) for (const x0 of [20, 40]) for (let x = x0; x < x0 + 2; x++) img[y * w + x] = 0;
  return img;
}
const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
const only = (over: Partial<AugmentConfig>): AugmentConfig => ({
  ...defaultAugmentConfig(),
  geometryP: 0,
  blurP: 0,
  noiseP: 0,
  colorP: 0,
  ...over,
});
function run(cfg: AugmentConfig, seed: number): Float32Array {
  const img = line();
  augmentImage(img, 24, 60, 1, cfg, new Rng(seed), new Float32Array(img.length));
  return img;
}

/** An Rng that counts its draws. */
class CountingRng extends Rng {
  draws = 0;
  override next(): number {
    this.draws++;
    return super.next();
  }
}

test('the handwriting effects are off by default and then draw nothing: other augmentations stay exactly as before', () => {
  const d = defaultAugmentConfig();
  assert.equal(d.elasticP, 0);
  assert.equal(d.strokeP, 0);
  const draws = (cfg: AugmentConfig) => {
    const rng = new CountingRng(5);
    const img = line();
    augmentImage(img, 24, 60, 1, cfg, rng, new Float32Array(img.length));
    return rng.draws;
  };
  // geometry alone: its chance and two amplitudes; blur, colour, noise: one chance each at p 0
  assert.equal(draws(only({ geometryP: 1 })), 6);
  assert.equal(draws(only({ geometryP: 1, elastic: 0.1, stroke: 1 })), 6, 'elastic/stroke amplitudes set but p 0');
  assert.ok(draws(only({ geometryP: 1, elasticP: 1 })) > 6);
  assert.ok(draws(only({ geometryP: 1, strokeP: 1 })) > 6);
});

test('elastic warp moves ink locally, deterministic per seed, stays in [0, 1] and keeps the ink amount about the same', () => {
  const cfg = only({ elasticP: 1, elastic: 0.08, elasticGrid: 0.5 });
  const a = run(cfg, 1);
  assert.deepEqual(run(cfg, 1), a);
  assert.notDeepEqual(run(cfg, 2), a);
  const orig = line();
  let changed = 0;
  for (let i = 0; i < a.length; i++) {
    assert.ok(a[i] >= 0 && a[i] <= 1);
    if (Math.abs(a[i] - orig[i]) > 0.05) changed++;
  }
  assert.ok(changed > 10, `some pixels moved (${changed})`);
  assert.ok(Math.abs(mean(a) - mean(orig)) < 0.03, `ink amount kept: ${mean(a)} vs ${mean(orig)}`);
});

test('stroke width: thickening adds ink (darker mean), thinning removes it; amount 0 changes nothing', () => {
  const orig = mean(line());
  const thick: number[] = [];
  const thin: number[] = [];
  for (let seed = 1; seed <= 12; seed++) {
    const m = mean(run(only({ strokeP: 1, stroke: 1 }), seed));
    if (m < orig - 1e-6) thick.push(m);
    else if (m > orig + 1e-6) thin.push(m);
  }
  assert.ok(
    thick.length > 0 && thin.length > 0,
    `both directions drawn (${thick.length} thicker, ${thin.length} thinner)`,
  );
  assert.deepEqual(run(only({ strokeP: 1, stroke: 0 }), 1), line());
});

test('augment config: the new fields are validated with the file and field named', () => {
  const r = (v: unknown) => parseAugmentConfig(v, 'd.yaml (augment)');
  assert.equal(r({ elastic_p: 0.5, elastic: 0.05 }).elasticP, 0.5);
  assert.throws(
    () => r({ stroke_p: 2 }),
    (e: unknown) => e instanceof OcropsError && /d\.yaml.*stroke_p/.test(e.message),
  );
  assert.throws(
    () => r({ elastic: 0.9 }),
    (e: unknown) => e instanceof OcropsError && /elastic/.test(e.message),
  );
  assert.throws(
    () => r({ elasticp: 0.5 }),
    (e: unknown) =>
      e instanceof OcropsError && /elasticp: is not a known field \(did you mean elastic_p\?\)/.test(e.message),
  );
});
