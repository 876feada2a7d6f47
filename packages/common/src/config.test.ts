import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigReader, parseJsonText, readYamlFile } from './config.js';
import { OcropsError } from './errors.js';

test('malformed YAML names the file, line and column', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-cfg-'));
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, 'a: 1\nb: [1, 2\nc: 3\n');
  assert.throws(
    () => readYamlFile(file),
    (e: unknown) => {
      assert.ok(e instanceof OcropsError);
      assert.equal(e.code, 'OCROPS_CONFIG_SYNTAX');
      assert.match(e.message, /bad\.yaml:\d+:\d+/);
      return true;
    },
  );
});

test('malformed JSON reports line and column', () => {
  assert.throws(() => parseJsonText('{\n  "a": 1,\n  "b": }', 'x.json'), /x\.json:3:\d+: malformed JSON/);
});

test('ConfigReader names the field path in errors', () => {
  const r = ConfigReader.from({ train: { lr: 'fast', epochs: 3 } }, 'train.yaml');
  const t = r.section('train');
  assert.equal(t.integer('epochs'), 3);
  assert.throws(() => t.number('lr'), /train\.yaml: field 'train\.lr' must be a number/);
  assert.throws(() => t.integer('epochs', undefined, { min: 5 }), /must be >= 5/);
  assert.throws(() => r.only(['model']), /field 'train' is not a known field/);
  assert.equal(t.number('missing', 0.5), 0.5);
});
