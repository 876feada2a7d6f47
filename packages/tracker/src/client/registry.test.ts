// Model references as serving and the CLI write them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OcropsError } from '@ocrops/common';
import { formatModelRef, parseModelRef } from './registry.js';

test('parseModelRef: registry:<model>@<alias>, <model>:<version>, with or without the prefix', () => {
  assert.deepEqual(parseModelRef('registry:vn-address@champion'), { modelName: 'vn-address', alias: 'champion' });
  assert.deepEqual(parseModelRef('vn-address@candidate'), { modelName: 'vn-address', alias: 'candidate' });
  assert.deepEqual(parseModelRef('registry:vn.address_2:7'), { modelName: 'vn.address_2', version: '7' });
  assert.deepEqual(parseModelRef('captcha:1.0.0'), { modelName: 'captcha', version: '1.0.0' });
  assert.equal(formatModelRef(parseModelRef('registry:m@champion')), 'm@champion');
  assert.equal(formatModelRef(parseModelRef('m:3')), 'm:3');
});

test('parseModelRef: anything else is an OcropsError with an example', () => {
  for (const bad of ['vn-address', 'registry:', '@champion', 'm@1bad', 'm@a@b', 'bad name@x', 'm:', '../m@x']) {
    assert.throws(
      () => parseModelRef(bad),
      (e: unknown) =>
        e instanceof OcropsError && e.code === 'OCROPS_REGISTRY_REF' && /registry:<model>@<alias>/.test(e.hint ?? ''),
      bad,
    );
  }
});
