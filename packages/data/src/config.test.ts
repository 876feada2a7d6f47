import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OcropsError, repoRoot, sharedDatasetsDir } from '@ocrops/common';
import { loadAnyDataConfig } from './task-config.js';
import { loadDataConfig, parseDataConfig } from './config.js';

test('defaults and path resolution', () => {
  const c = parseDataConfig(
    { name: 'x', source: { format: 'tags', path: 'a/train.tags' }, image: { height: 32 } },
    'x.yaml',
    '/base',
  );
  assert.equal(c.source.path, '/base/a/train.tags');
  assert.equal(c.output, '/base/data/prepared/x');
  assert.deepEqual(c.charset, { kind: 'vietnamese' });
  assert.equal(c.onUnknownChars, 'filter');
  assert.equal(c.image.channels, 1);
  assert.equal(c.image.maxWidth, 32 * 40);
  assert.deepEqual(c.split, { train: 0.8, val: 0.1, test: 0.1, seed: 42 });
  const e = parseDataConfig(
    { name: 'y', source: { format: 'synthetic' }, charset: 'abc', image: { height: 32, width: 100 } },
    'y.yaml',
  );
  assert.deepEqual(e.charset, { kind: 'explicit', chars: 'abc' });
  assert.equal(e.image.maxWidth, 100);
});

test('bad configs name the file and field', () => {
  const base = { name: 'x', source: { format: 'labels-json', path: 'l.json' }, image: { height: 32 } };
  assert.throws(
    () => parseDataConfig({ ...base, image: { height: 32, channels: 2 } }, 'd.yaml'),
    /d\.yaml: image\.channels: is not one of the allowed values, got 2; allowed: 1, 3/,
  );
  assert.throws(
    () => parseDataConfig({ ...base, source: { format: 'csv' } }, 'd.yaml'),
    /source\.format: is not one of the allowed values, got "csv"; allowed: labels-json, /,
  );
  assert.throws(
    () => parseDataConfig({ ...base, source: { format: 'tags' } }, 'd.yaml'),
    /source\.path: is required for format 'tags'/,
  );
  assert.throws(
    () => parseDataConfig({ ...base, on_unknown_chars: 'ignore' }, 'd.yaml'),
    /on_unknown_chars: .*allowed: filter, fail/,
  );
  assert.throws(
    () => parseDataConfig({ ...base, imgae: {} }, 'd.yaml'),
    /imgae: is not a known field \(did you mean image\?\)/,
  );
  assert.throws(
    () => parseDataConfig({ ...base, synthetic: { slant: [0.3, 0.1] } }, 'd.yaml'),
    /synthetic\.slant: must be \[min, max\] with min <= max/,
  );
  assert.throws(
    () => parseDataConfig({ ...base, source: { format: 'labels-json', dataset: 'no-such-set' } }, 'd.yaml'),
    /shared dataset 'no-such-set' not found/,
  );
});

test('a data config file: problems at their lines; old camelCase keys load with a warning', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-dcfg-'));
  const f = join(dir, 'd.yaml');
  writeFileSync(
    f,
    'name: bad name\nsource: { format: synthetic }\nimage:\n  height: 4\nsynthetic:\n  words: { range: [2.5, 6] }\n',
  );
  assert.throws(
    () => loadDataConfig(f),
    (e: unknown) => {
      assert.ok(e instanceof OcropsError);
      assert.match(e.message, new RegExp(`${f}:1:1: name: .*got "bad name"; allowed: a string matching`));
      assert.match(e.message, new RegExp(`${f}:4:3: image\\.height: .*got 4; allowed: an integer in 8\\.\\.512`));
      assert.match(
        e.message,
        new RegExp(
          `${f}:6:12: synthetic\\.words\\.range: is not of an allowed form, got \\[2\\.5,6\\]; allowed: a number or a \\[min, max\\] pair of integers >= 1`,
        ),
      );
      return true;
    },
  );
  writeFileSync(
    f,
    'name: old\nsource: { format: synthetic }\nonUnknownChars: fail\nimage: { height: 32, maxWidth: 300 }\naugment: { geometryP: 0.1 }\n',
  );
  const c = loadDataConfig(f);
  assert.deepEqual([c.onUnknownChars, c.image.maxWidth, c.augment && c.augment.geometryP], ['fail', 300, 0.1]);
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
      if (/not found in/.test((e as Error).message))
        t.diagnostic(`${f}: shared dataset absent in ${sharedDatasetsDir()}`);
      else throw e;
    }
  }
  // the text-line reader points a classification config elsewhere
  assert.throws(
    () => loadDataConfig(join(dir, 'butterflies.yaml')),
    /butterflies\.yaml:\d+:\d+: task: must be 'ocr' for a text-line data config, got "classify"/,
  );
});
