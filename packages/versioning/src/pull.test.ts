import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isOcropsError } from '@ocrops/common';
import { dirManifest, dirManifestMd5 } from './hash.js';
import { parseManifest } from './pull.js';

const entries = [
  { md5: '37b51d194a7513e45b56f6524f2d51f2', relpath: 'bar' },
  { md5: '8c7dd922ad47494fc02c388e12c00eac', relpath: 'nested/file' },
];
const id = dirManifestMd5(entries);

test('parseManifest accepts DVC manifests, also those stored with meta (size, isexec)', () => {
  assert.deepEqual(parseManifest(Buffer.from(dirManifest(entries)), id, 'x'), entries);
  const withMeta = JSON.stringify(entries.map((e) => ({ ...e, size: 3, isexec: false })));
  assert.deepEqual(parseManifest(Buffer.from(withMeta), id, 'x'), entries);
});

test('parseManifest rejects damaged manifests and paths escaping the output', () => {
  const corrupt = (e: unknown) => isOcropsError(e) && e.code === 'OCROPS_WEIGHTS_CORRUPT';
  assert.throws(() => parseManifest(Buffer.from('{not json'), id, 's3://b/k'), corrupt);
  assert.throws(() => parseManifest(Buffer.from(dirManifest([entries[0]])), id, 's3://b/k'), corrupt);
  const evil = [{ md5: entries[0].md5, relpath: '../etc/passwd' }];
  assert.throws(
    () => parseManifest(Buffer.from(dirManifest(evil)), dirManifestMd5(evil), 's3://b/k'),
    (e: unknown) => corrupt(e) && /outside/.test((e as Error).message),
  );
});
