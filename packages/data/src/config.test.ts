import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, sharedDatasetsDir } from '@ocrops/common';
import { loadAnyDataConfig } from './task-config.js';
import { loadDataConfig, parseDataConfig } from './config.js';

test('defaults and path resolution', () => {
  const c = parseDataConfig({ name: 'x', source: { format: 'tags', path: 'a/train.tags' }, image: { height: 32 } }, 'x.yaml', '/base');
  assert.equal(c.source.path, '/base/a/train.tags');
  assert.equal(c.output, '/base/data/prepared/x');
  assert.deepEqual(c.charset, { kind: 'vietnamese' });
  assert.equal(c.onUnknownChars, 'filter');
  assert.equal(c.image.channels, 1);
  assert.equal(c.image.maxWidth, 32 * 40);
  assert.deepEqual(c.split, { train: 0.8, val: 0.1, test: 0.1, seed: 42 });
  const e = parseDataConfig({ name: 'y', source: { format: 'synthetic' }, charset: 'abc', image: { height: 32, width: 100 } }, 'y.yaml');
  assert.deepEqual(e.charset, { kind: 'explicit', chars: 'abc' });
  assert.equal(e.image.maxWidth, 100);
});

test('bad configs name the file and field', () => {
  const base = { name: 'x', source: { format: 'labels-json', path: 'l.json' }, image: { height: 32 } };
  assert.throws(() => parseDataConfig({ ...base, image: { height: 32, channels: 2 } }, 'd.yaml'), /d\.yaml: field 'image\.channels' must be 1/);
  assert.throws(() => parseDataConfig({ ...base, source: { format: 'csv' } }, 'd.yaml'), /field 'source\.format' must be one of/);
  assert.throws(() => parseDataConfig({ ...base, source: { format: 'tags' } }, 'd.yaml'), /field 'source\.path' is required/);
  assert.throws(() => parseDataConfig({ ...base, onUnknownChars: 'ignore' }, 'd.yaml'), /onUnknownChars/);
  assert.throws(() => parseDataConfig({ ...base, imgae: {} }, 'd.yaml'), /field 'imgae' is not a known field/);
  assert.throws(() => parseDataConfig({ ...base, synthetic: { slant: [0.3, 0.1] } }, 'd.yaml'), /synthetic\.slant' must be \[min, max\]/);
  assert.throws(() => parseDataConfig({ ...base, source: { format: 'labels-json', dataset: 'no-such-set' } }, 'd.yaml'), /shared dataset 'no-such-set' not found/);
});

test('every shipped config in configs/data loads (either task)', (t) => {
  const dir = join(repoRoot(), 'configs', 'data');
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.includes('synthetic.yaml') && files.includes('butterflies.yaml'));
  for (const f of files) {
    try {
      const c = loadAnyDataConfig(join(dir, f));
      // the file is named after the set (butterflies.yaml names butterflies-75)
      const stem = f.replace(/\.yaml$/, '');
      assert.ok(c.config.name === stem || c.config.name.startsWith(`${stem}-`), `${f} names ${c.config.name}`);
      assert.equal(c.task, f === 'butterflies.yaml' ? 'classify' : 'ocr');
    } catch (e) {
      if (/not found in/.test((e as Error).message)) t.diagnostic(`${f}: shared dataset absent in ${sharedDatasetsDir()}`);
      else throw e;
    }
  }
  // the text-line reader points a classification config elsewhere
  assert.throws(() => loadDataConfig(join(dir, 'butterflies.yaml')), /field 'task' must be 'ocr' for a text-line data config/);
});
