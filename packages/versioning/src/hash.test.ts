import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dirManifest, dirManifestMd5, hashDirectory, md5File, md5Hex } from './hash.js';

test('md5 of bytes is the plain MD5 (DVC 3)', async () => {
  assert.equal(md5Hex('foo'), 'acbd18db4cc2f85cedef654fccc4a4d8');
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-hash-'));
  try {
    writeFileSync(join(dir, 'f'), 'bar');
    assert.equal(await md5File(join(dir, 'f')), '37b51d194a7513e45b56f6524f2d51f2');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('.dir id matches the DVC test vector (bar, foo, nested/file)', () => {
  const entries = [
    { md5: '8c7dd922ad47494fc02c388e12c00eac', relpath: 'nested/file' },
    { md5: 'acbd18db4cc2f85cedef654fccc4a4d8', relpath: 'foo' },
    { md5: '37b51d194a7513e45b56f6524f2d51f2', relpath: 'bar' },
  ];
  assert.equal(dirManifestMd5(entries), '5fc28ea78987408341668eba6525ebd1.dir');
  assert.equal(
    dirManifest(entries),
    '[{"md5": "37b51d194a7513e45b56f6524f2d51f2", "relpath": "bar"}, {"md5": "acbd18db4cc2f85cedef654fccc4a4d8", "relpath": "foo"}, ' +
      '{"md5": "8c7dd922ad47494fc02c388e12c00eac", "relpath": "nested/file"}]',
  );
});

test('manifest escapes non-ASCII like Python json.dumps and sorts by code point', () => {
  const m = dirManifest([
    { md5: 'a', relpath: '\u{1F600}.txt' },
    { md5: 'b', relpath: 'ảnh/ví dụ.png' },
    { md5: 'c', relpath: '\uFF21' },
    { md5: 'd', relpath: 'q"\\\u007f' },
  ]);
  assert.equal(
    m,
    '[{"md5": "d", "relpath": "q\\"\\\\\\u007f"}, {"md5": "b", "relpath": "\\u1ea3nh/v\\u00ed d\\u1ee5.png"}, ' +
      '{"md5": "c", "relpath": "\\uff21"}, {"md5": "a", "relpath": "\\ud83d\\ude00.txt"}]',
  );
});

test('hashDirectory walks nested files with / separators', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocrops-hash-'));
  try {
    mkdirSync(join(dir, 'nested'));
    writeFileSync(join(dir, 'bar'), 'bar');
    writeFileSync(join(dir, 'foo'), 'foo');
    writeFileSync(join(dir, 'nested', 'file'), 'file');
    const entries = await hashDirectory(dir);
    assert.equal(entries.length, 3);
    assert.ok(entries.some((e) => e.relpath === 'nested/file' && e.md5 === md5Hex('file')));
    assert.equal(dirManifestMd5(entries), `${md5Hex(dirManifest(entries))}.dir`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
